import { useMemo } from "react";
import { renderMarkdown } from "./markdown";

interface Props {
  text: string;
  className?: string;
  id?: string;
}

/** Untrusted markdown, rendered with raw HTML off and sanitised (see markdown.ts). */
export function Markdown({ text, className, id }: Props) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // Safe: `html` is DOMPurify's output of markdown rendered with html: false.
  return <div id={id} className={`md ${className ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
