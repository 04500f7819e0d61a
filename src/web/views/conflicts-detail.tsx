// One conflict: base, ours (the living requirement) and theirs (the change's) side by side, each side as a word
// diff against the base; a reviewer picks one, or edits a merged text prefilled with theirs, and resolves it
// through the core (`keel change resolve`). The spec changes when the change is applied again, which the page
// offers once the conflict is resolved.
// @req WEB-8
import { useState } from "preact/hooks";
import { currentSession, post } from "../api";
import { useResource } from "../live";
import { WordDiff } from "../rich";
import { Badge, ErrorBox, Loading, Section, Status, timeAgo } from "../ui";
import { mayApply, mayResolve } from "./changes-roles";
import type { Conflict } from "./conflicts";

type Pick = "ours" | "theirs" | "base" | "merged";

const PICKS: Array<{ value: Pick; label: string }> = [
  { value: "ours", label: "Keep ours: the living requirement" },
  { value: "theirs", label: "Take theirs: the change's version" },
  { value: "base", label: "Go back to the base" },
  { value: "merged", label: "Use the merged text below" },
];

export default function ConflictDetail({ id }: { id: string }) {
  // An agent's session is answered the texts delivered (the server decides by the principal).
  const r = useResource<{ conflict: Conflict }>(`/api/conflicts/${encodeURIComponent(id)}`, [
    "change.*",
    "audit",
  ]);
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <Loading />;
  const c = r.data.conflict;
  return (
    <div class="review">
      <p>
        <a href="/conflicts">← All conflicts</a>
      </p>
      <h1>
        Conflict on {c.requirement} <span class="muted">({c.id})</span>
      </h1>
      <p class="row">
        <Status value={c.status} />
        <span>
          {c.capability} ·{" "}
          {c.change === "git-merge" ? (
            "from a git merge"
          ) : (
            <a href={`/changes/${encodeURIComponent(c.change)}`}>change {c.change}</a>
          )}{" "}
          · recorded <time dateTime={c.createdAt}>{timeAgo(c.createdAt)}</time>
        </span>
      </p>
      <div class="columns3">
        <Side title="Base" hint="what both sides started from" text={c.base} base={null} />
        <Side title="Ours" hint="the living requirement now" text={c.ours} base={c.base} />
        <Side title="Theirs" hint={`change ${c.change}`} text={c.theirs} base={c.base} />
      </div>
      {c.status === "open" ? <Resolve conflict={c} onDone={r.reload} /> : <Resolved conflict={c} />}
    </div>
  );
}

function Side({
  title,
  hint,
  text,
  base,
}: {
  title: string;
  hint: string;
  text: string;
  base: string | null;
}) {
  const id = `side-${title.toLowerCase()}`;
  return (
    <section class="card side" aria-labelledby={id}>
      <h2 id={id}>
        {title} <span class="muted">· {hint}</span>
      </h2>
      {text === "" ? (
        <p class="muted">(absent: the requirement is removed on this side)</p>
      ) : (
        <div class="review-diff">
          {base === null ? <p class="word-diff">{text}</p> : <WordDiff before={base} after={text} />}
        </div>
      )}
    </section>
  );
}

function Resolve({ conflict: c, onDone }: { conflict: Conflict; onDone: () => void }) {
  const session = currentSession();
  const [pick, setPick] = useState<Pick>("theirs");
  const [merged, setMerged] = useState(c.theirs);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (!mayResolve(session))
    return (
      <p class="muted">A conflict takes a human reviewer's resolution; your session cannot resolve it.</p>
    );
  if (c.change === "git-merge")
    return (
      <p>
        Conflicts from a git merge are resolved in the file: keep one version between the markers and commit.
      </p>
    );
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    post(
      `/api/conflicts/${encodeURIComponent(c.id)}/resolve`,
      pick === "merged" ? { text: merged } : { take: pick },
    )
      .then(onDone, (err: Error) => setError(err))
      .finally(() => setBusy(false));
  };
  return (
    <Section title="Resolve" id="conflict-resolve">
      <form onSubmit={submit}>
        <fieldset>
          <legend>Resolution</legend>
          {PICKS.map((p) => (
            <label key={p.value} class="choice">
              <input
                type="radio"
                name="pick"
                value={p.value}
                checked={pick === p.value}
                onChange={() => setPick(p.value)}
              />{" "}
              {p.label}
            </label>
          ))}
        </fieldset>
        <label for="merged-text">Merged text</label>
        <textarea
          id="merged-text"
          rows={14}
          value={merged}
          onInput={(e) => {
            setMerged(e.currentTarget.value);
            setPick("merged");
          }}
        />
        <p class="muted">
          One requirement block: its heading with the same ID, its text and scenarios. Empty removes the
          requirement.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Resolve
        </button>
        <ErrorBox error={error} />
      </form>
    </Section>
  );
}

/** A resolved conflict: who chose what, and the apply that writes it into the spec. */
function Resolved({ conflict: c }: { conflict: Conflict }) {
  const session = currentSession();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const apply = () => {
    setBusy(true);
    setError(null);
    post<{ files: string[] }>(`/api/changes/${encodeURIComponent(c.change)}/apply`)
      .then((r) => setNote(`Applied: ${r.files.join(", ")} now holds the resolution.`), setError)
      .finally(() => setBusy(false));
  };
  return (
    <Section title="Resolution" id="conflict-resolution">
      <p>
        <Badge tone="good">{c.status}</Badge> by {c.resolvedBy ?? "—"}{" "}
        {c.resolvedAt ? <time dateTime={c.resolvedAt}>{timeAgo(c.resolvedAt)}</time> : null}
      </p>
      {c.resolution !== null ? (
        <div class="review-diff">
          <WordDiff before={c.ours} after={c.resolution} />
        </div>
      ) : null}
      {c.status === "resolved" && mayApply(session) && note === null ? (
        <>
          <p>The spec changes when change {c.change} is applied with this resolution.</p>
          <button type="button" class="primary" disabled={busy} onClick={apply}>
            Apply {c.change}
          </button>
        </>
      ) : null}
      <div role="status">{note ? <p class="note">{note}</p> : null}</div>
      <ErrorBox error={error} />
    </Section>
  );
}
