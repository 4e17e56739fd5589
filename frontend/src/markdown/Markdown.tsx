import { useEffect, useMemo, useState } from "react";
import { hasCodeToHighlight, isHighlighterReady, loadHighlighter, renderMarkdown } from "./markdown";

interface Props {
  text: string;
  className?: string;
  id?: string;
}

/** Untrusted markdown, rendered with raw HTML off and sanitised (see markdown.ts). */
export function Markdown({ text, className, id }: Props) {
  const wantsCode = hasCodeToHighlight(text);
  const [highlighted, setHighlighted] = useState(() => isHighlighterReady());
  useEffect(() => {
    if (!wantsCode || highlighted) return;
    let live = true;
    loadHighlighter().then(
      () => live && setHighlighted(true),
      () => undefined, // plain code blocks are fine
    );
    return () => {
      live = false;
    };
  }, [wantsCode, highlighted]);
  const html = useMemo(() => renderMarkdown(text), [text, highlighted]); // eslint-disable-line react-hooks/exhaustive-deps
  // Safe: `html` is DOMPurify's output of markdown rendered with html: false.
  return <div id={id} className={`md ${className ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
