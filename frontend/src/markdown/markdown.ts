/**
 * Markdown for untrusted text (model output, prompts, guidelines): raw HTML off, images off,
 * links limited to http(s)/mailto, code highlighted, and the result sanitised by DOMPurify
 * before it reaches the DOM.
 */

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import MarkdownIt from "markdown-it";

const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight(code, lang) {
    const language = lang.trim().toLowerCase();
    if (!language || !hljs.getLanguage(language)) return "";
    const html = hljs.highlight(code, { language, ignoreIllegals: true }).value;
    return `<pre class="hljs"><code class="language-${escapeHtml(language)}">${html}</code></pre>`;
  },
});
// A remote image in model output would load (and track) from anywhere: show the syntax instead.
md.disable("image");
// Headings inside a response sit under the page's own (h1 task, h2 section, h3 response), so a
// screen reader's heading list stays in order: the text's shallowest heading becomes h4, the
// next level h5, anything deeper h6.
md.core.ruler.push("nest_headings", (state) => {
  const headings = state.tokens.filter((t) => t.type === "heading_open" || t.type === "heading_close");
  if (headings.length === 0) return true;
  const shallowest = Math.min(...headings.map((t) => Number(t.tag.slice(1))));
  for (const token of headings) token.tag = `h${Math.min(Number(token.tag.slice(1)) - shallowest + 4, 6)}`;
  return true;
});

const SAFE_URL = /^(?:https?:|mailto:|#)/i;

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_URL.test(href)) {
      node.removeAttribute("href");
      return;
    }
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const PURIFY_CONFIG = {
  ALLOWED_URI_REGEXP: SAFE_URL,
  FORBID_TAGS: ["style", "img", "svg", "math", "form", "input", "button", "iframe", "video", "audio"],
  FORBID_ATTR: ["style", "srcset"],
};

/** HTML safe to insert: rendered markdown, sanitised. */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(text), PURIFY_CONFIG);
}
