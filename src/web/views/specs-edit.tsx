// Edit in place: a person rewrites a requirement's text in the page and saves it through the core's surgical edit,
// with the fingerprint the page showed when they started as its base. When someone changed the requirement
// meanwhile the server answers 409 and writes nothing; the page then shows their current text beside the
// person's, overwrites nothing, and lets the person start again from the current text.
// @req WEB-6
import { useState } from "preact/hooks";
import { ApiError, get, post } from "../api";
import { WordDiff } from "../rich";
import { ErrorBox, Fingerprint } from "../ui";
import { type RequirementAnswer, type RequirementRecord, requirementUrl } from "./specs-requirement";

type Editing =
  | { mode: "closed" }
  | { mode: "editing"; base: string; draft: string }
  | { mode: "conflict"; draft: string; theirs: RequirementRecord | null };

export function EditPanel({ record, onSaved }: { record: RequirementRecord; onSaved: () => void }) {
  const [state, setState] = useState<Editing>({ mode: "closed" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const startFrom = (r: RequirementRecord) => {
    setError(null);
    setState({ mode: "editing", base: r.fingerprint, draft: r.text });
  };
  const save = async (base: string, draft: string) => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/requirements/${encodeURIComponent(record.id)}/edit`, { base, text: draft });
      setState({ mode: "closed" });
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        const theirs = await get<RequirementAnswer>(requirementUrl(record.id)).then(
          (a) => a.item,
          () => null,
        );
        setState({ mode: "conflict", draft, theirs });
      } else setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  if (state.mode === "closed")
    return (
      <div class="edit-bar">
        <button type="button" onClick={() => startFrom(record)}>
          Edit text
        </button>
      </div>
    );
  if (state.mode === "conflict")
    return <Conflict state={state} onRestart={startFrom} onDrop={() => setState({ mode: "closed" })} />;
  const moved = record.fingerprint !== state.base;
  return (
    <form
      class="card edit-form"
      aria-label={`Edit ${record.id}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save(state.base, state.draft);
      }}
    >
      <label for="req-edit-text">Requirement text</label>
      <textarea
        id="req-edit-text"
        value={state.draft}
        onInput={(e) => setState({ ...state, draft: (e.target as HTMLTextAreaElement).value })}
      />
      <p class="muted">
        Saved against fingerprint <Fingerprint value={state.base} />. Scenarios stay as they are.
      </p>
      {moved ? (
        <p class="notice" role="status">
          Someone changed this requirement since you started: saving will be refused, and you will see both
          texts.
        </p>
      ) : null}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={() => setState({ mode: "closed" })} disabled={busy}>
          Cancel
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

function Conflict({
  state,
  onRestart,
  onDrop,
}: {
  state: Extract<Editing, { mode: "conflict" }>;
  onRestart: (r: RequirementRecord) => void;
  onDrop: () => void;
}) {
  const theirs = state.theirs;
  return (
    <section class="card conflict" aria-labelledby="edit-conflict">
      <h2 id="edit-conflict">Not saved: someone changed this requirement meanwhile</h2>
      <p>Nothing was overwritten. Their text is in the spec now; yours is below, kept for you to copy.</p>
      <div class="conflict-sides">
        <div>
          <h3>Their current text</h3>
          {theirs ? (
            <>
              <pre class="theirs">{theirs.text}</pre>
              <p class="muted">
                at <Fingerprint value={theirs.fingerprint} />
              </p>
            </>
          ) : (
            <p class="muted">The requirement is no longer in the spec.</p>
          )}
        </div>
        <div>
          <h3>Your text</h3>
          <pre class="yours">{state.draft}</pre>
        </div>
      </div>
      {theirs ? (
        <>
          <h3>From theirs to yours</h3>
          <WordDiff before={theirs.text} after={state.draft} />
        </>
      ) : null}
      <div class="row">
        {theirs ? (
          <button type="button" class="primary" onClick={() => onRestart(theirs)}>
            Start again from their text
          </button>
        ) : null}
        <button type="button" onClick={onDrop}>
          Discard my text
        </button>
      </div>
    </section>
  );
}
