/**
 * Markdown for untrusted text (model output, prompts, guidelines): raw HTML off, images off,
 * links limited to http(s)/mailto, code highlighted, and the result sanitised by DOMPurify
 * before it reaches the DOM.
 */

import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

type Highlighter = (code: string, language: string) => string | null;

// highlight.js is a third of the bundle and most tasks show no code: it loads on first need.
let highlighter: Highlighter | null = null;
let loading: Promise<void> | null = null;

export function isHighlighterReady(): boolean {
  return highlighter !== null;
}

export function loadHighlighter(): Promise<void> {
  loading ??= import("./highlight").then((module) => {
    highlighter = module.highlight;
  });
  return loading;
}

/** Whether the text has a fenced code block that names its language. */
export function hasCodeToHighlight(text: string): boolean {
  return /^\s*(```|~~~)\s*[\w+#-]+/m.test(text);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight(code, lang) {
    const language = lang.trim().toLowerCase();
    const html = language && highlighter ? highlighter(code, language) : null;
    if (html === null) return "";
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
