// Search everywhere: requirements and spec purposes, ranked by the index's full-text search (GET /api/search, as
// `keel search`). The box has focus on arrival (the shell sends the `/` key here) and the query lives in the URL,
// so a search is a link; each hit opens its capability's spec.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useResource } from "../live";
import { navigate } from "../router";
import { ErrorBox, Loading, Status } from "../ui";
import type { ViewProps } from "./index";

interface SearchAnswer {
  total: number;
  results: Array<{
    kind: "requirement" | "spec";
    id: string;
    title: string;
    capability: string;
    status: string | null;
    titleHighlights: Array<[number, number]>;
    field: "text" | "scenarios" | "purpose";
    snippet: string;
    highlights: Array<[number, number]>;
  }>;
}

/** Keystrokes close together are one search. */
const TYPING_MS = 200;

export default function Search({ query }: ViewProps) {
  const q = query.get("q") ?? "";
  const [text, setText] = useState(q);
  const box = useRef<HTMLInputElement>(null);
  // The URL decides (back, forward, a link, the `/` key): the box follows it and takes focus.
  useEffect(() => {
    setText(q);
    box.current?.focus();
  }, [q]);
  useEffect(() => {
    if (text.trim() === q.trim()) return;
    const timer = setTimeout(() => {
      const next = text.trim();
      navigate(next ? `/search?q=${encodeURIComponent(next)}` : "/search", true);
    }, TYPING_MS);
    return () => clearTimeout(timer);
  }, [text, q]);
  const path = q.trim() ? `/api/search?q=${encodeURIComponent(q.trim())}&limit=50` : null;
  const found = useResource<SearchAnswer>(path, ["spec.edited"]);
  return (
    <div class="search">
      <h1>Search</h1>
      <search class="card">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const next = text.trim();
            navigate(next ? `/search?q=${encodeURIComponent(next)}` : "/search", true);
          }}
        >
          <label for="search-box">Search requirements and specs</label>
          <input
            id="search-box"
            ref={box}
            type="search"
            value={text}
            autoComplete="off"
            placeholder="e.g. refund, PAY-2, webhook"
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
        </form>
      </search>
      {path === null ? (
        <p class="muted">
          Type to search every requirement's title, text and scenarios, and every spec's purpose.
        </p>
      ) : (
        <Results answer={found.data} error={found.error} q={q.trim()} />
      )}
    </div>
  );
}

function Results({ answer, error, q }: { answer: SearchAnswer | null; error: Error | null; q: string }) {
  if (error) return <ErrorBox error={error} />;
  if (!answer) return <Loading />;
  return (
    <section class="card" aria-labelledby="search-results">
      <h2 id="search-results" aria-live="polite">
        {answer.total === 0
          ? `Nothing matches “${q}”`
          : `${answer.total} result${answer.total === 1 ? "" : "s"} for “${q}”`}
        {answer.total > answer.results.length ? ` (the first ${answer.results.length})` : ""}
      </h2>
      <ol class="plain hits">
        {answer.results.map((r) => (
          <li key={`${r.kind}:${r.id}`} class="hit">
            <a href={`/specs/${encodeURIComponent(r.capability)}`}>
              {r.kind === "requirement" ? <strong>{r.id}</strong> : null}{" "}
              <Marked text={r.title} marks={r.titleHighlights} />
            </a>{" "}
            {r.kind === "spec" ? (
              <span class="muted">spec</span>
            ) : r.status ? (
              <Status value={r.status} />
            ) : null}{" "}
            <span class="muted">
              {r.capability} · {r.field}
            </span>
            <p class="snippet">
              <Marked text={r.snippet} marks={r.highlights} />
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Text with the matched ranges in `<mark>`: spec text, so only ever text nodes. */
function Marked({ text, marks }: { text: string; marks: Array<[number, number]> }) {
  const parts: ComponentChildren[] = [];
  let at = 0;
  for (const [start, end] of [...marks].sort((a, b) => a[0] - b[0])) {
    if (start < at) continue;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(<mark key={start}>{text.slice(start, end)}</mark>);
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts}</>;
}
