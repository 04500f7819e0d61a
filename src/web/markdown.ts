// Spec text as a person reads it, and inert whatever it holds: markdown-it with raw HTML off (tags show as text),
// links only to http, https, mailto or the app itself, and no image loads from anywhere (the CSP allows none).
// Agents write spec text; it is untrusted input here as it is everywhere else (docs/security.md).
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
const SAFE_LINK = /^(https?:|mailto:|\/(?!\/)|#)/i;
md.validateLink = (url) => SAFE_LINK.test(url.trim());
const defaultLink =
  md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token && /^https?:/i.test(String(token.attrGet("href") ?? ""))) {
    token.attrSet("rel", "noopener noreferrer nofollow");
    token.attrSet("target", "_blank");
  }
  return defaultLink(tokens, idx, options, env, self);
};
// An image would be a request to wherever the text points: shown as its alt text instead.
md.renderer.rules.image = (tokens, idx) => md.utils.escapeHtml(tokens[idx]?.content ?? "");

/** HTML for a Markdown text, safe to insert: markdown-it escapes everything it does not itself produce. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
