// Spec text as Markdown and word diffs: the heavier pieces (markdown-it, diff), loaded only by the views that show
// spec text.
import { diffWords } from "diff";
import { renderMarkdown } from "./markdown";

export function Markdown({ text, agent }: { text: string; agent?: boolean }) {
  return (
    <div
      class={`markdown ${agent ? "by-agent" : ""}`}
      // Safe: markdown.ts renders with raw HTML disabled and links limited to safe schemes.
      dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }}
    />
  );
}

/** Words removed and added between two texts, as `<del>` and `<ins>`. */
export function WordDiff({ before, after }: { before: string; after: string }) {
  return (
    <p class="word-diff">
      {diffWords(before, after).map((part, i) =>
        part.added ? (
          <ins key={i}>{part.value}</ins>
        ) : part.removed ? (
          <del key={i}>{part.value}</del>
        ) : (
          part.value
        ),
      )}
    </p>
  );
}
