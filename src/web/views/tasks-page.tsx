// One task's page: its fields and readiness, its claim with the lease counting down, the context pack exactly as
// an agent receives it (keel context), and its handoff notes, with a form to leave one. Notes and pack text are
// shown as plain text: an agent's words are never rendered as markup, and are marked as an agent's.
// @req WEB-9, TSK-12
import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { currentSession, post } from "../api";
import { useResource } from "../live";
import { Badge, ErrorBox, Loading, Origin, Section, Status, timeAgo } from "../ui";
import { Countdown, skewOf, TASK_EVENTS, taskApi, taskHref } from "./tasks-data";

interface TaskAnswer {
  task: {
    key: string;
    id: string;
    scope: string;
    title: string;
    status: string;
    ready: boolean;
    blockers: string[];
    priority: number | null;
    phase: string | null;
    story: string | null;
    dependsOn: string[];
    related: string[];
    parent: string | null;
    children: string[];
    covers: string[];
    boundaries: string[];
    verification: string[];
    details: string[];
    file: string;
    line: number;
  };
}

interface NotesAnswer {
  now: string;
  task: string;
  claim: {
    status: string;
    holder: string | null;
    token: number | null;
    leaseUntil: string | null;
    live: boolean;
    reason: string | null;
    updatedAt: string;
  } | null;
  notes: Array<{ author: string; at: string; text: string }>;
}

interface ContextAnswer {
  budget: number;
  tokenizer: string;
  sections: Array<{ kind: string; ref: string; tokens: number; truncated: boolean }>;
  omitted: Array<{ kind: string; ref: string; reason: string }>;
  text: string;
  totals: { tokens: number; overBudget: boolean };
}

export function TaskPage({ taskKey }: { taskKey: string }) {
  const shown = useResource<TaskAnswer>(taskApi(taskKey), TASK_EVENTS);
  if (shown.error) return <ErrorBox error={shown.error} />;
  if (!shown.data) return <Loading />;
  const t = shown.data.task;
  return (
    <div class="task-page">
      <p class="muted">
        <a href="/tasks">Tasks</a> / {t.scope}
      </p>
      <h1>
        <code>{t.key}</code> {t.title}
      </h1>
      <p class="row">
        <Status value={t.status} />
        {t.ready ? <Badge tone="good">ready</Badge> : null}
        {t.priority !== null ? <Badge>P{t.priority}</Badge> : null}
        <span class="muted">
          {t.file}:{t.line}
        </span>
      </p>
      <div class="split task-split">
        <div>
          <Details task={t} />
          <Claim taskKey={t.key} />
        </div>
        <div>
          <ContextPack taskKey={t.key} />
        </div>
      </div>
    </div>
  );
}

function Keys({ keys }: { keys: string[] }) {
  return (
    <>
      {keys.map((k, i) => (
        <span key={k}>
          {i > 0 ? ", " : ""}
          <a href={taskHref(k)}>{k}</a>
        </span>
      ))}
    </>
  );
}

function Details({ task: t }: { task: TaskAnswer["task"] }) {
  const rows: Array<[string, ComponentChildren, boolean]> = [
    ["Ready", t.ready ? "yes" : t.blockers.join("; "), true],
    ["Depends on", <Keys keys={t.dependsOn} />, t.dependsOn.length > 0],
    ["Related", <Keys keys={t.related} />, t.related.length > 0],
    ["Parent", t.parent ? <Keys keys={[t.parent]} /> : null, t.parent !== null],
    ["Subtasks", <Keys keys={t.children} />, t.children.length > 0],
    ["Covers", t.covers.join(", "), t.covers.length > 0],
    ["Boundaries", t.boundaries.map((b) => <code key={b}>{b} </code>), t.boundaries.length > 0],
    ["Verification", t.verification.map((v) => <code key={v}>{v} </code>), t.verification.length > 0],
    ["Phase", t.phase, t.phase !== null],
    ["Story", t.story, t.story !== null],
  ];
  return (
    <Section title="Details" id="task-details">
      <dl class="facts">
        {rows
          .filter(([, , shownRow]) => shownRow)
          .map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
      </dl>
      {t.details.length > 0 ? (
        <ul>
          {t.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}

function Claim({ taskKey }: { taskKey: string }) {
  const notes = useResource<NotesAnswer>(taskApi(taskKey, "/notes"), [...TASK_EVENTS, "audit"]);
  const skew = useMemo(() => (notes.data ? skewOf(notes.data.now) : 0), [notes.data]);
  const c = notes.data?.claim ?? null;
  return (
    <>
      <Section title="Claim" id="task-claim">
        {!notes.data ? (
          notes.error ? (
            <ErrorBox error={notes.error} />
          ) : (
            <Loading />
          )
        ) : c === null ? (
          <p class="muted">Never claimed.</p>
        ) : (
          <p class="row">
            <Status value={c.live ? "claimed" : c.status} />
            {c.holder ? <Origin origin={c.holder.split(":")[0]} by={c.holder} /> : null}
            {c.live && c.leaseUntil ? <Countdown until={c.leaseUntil} skew={skew} /> : null}
            {c.token !== null ? <span class="muted">fencing token {c.token}</span> : null}
            {c.reason ? <span>reason: {c.reason}</span> : null}
          </p>
        )}
      </Section>
      <Section title="Handoff notes" id="task-notes">
        {notes.data ? <NoteList notes={notes.data.notes} /> : null}
        <NoteForm taskKey={taskKey} onAdded={notes.reload} />
      </Section>
    </>
  );
}

function NoteList({ notes }: { notes: NotesAnswer["notes"] }) {
  if (notes.length === 0) return <p class="muted">No notes yet.</p>;
  return (
    <ol class="notes">
      {notes.map((n, i) => {
        const agent = n.author.startsWith("agent:");
        return (
          <li key={`${n.at}-${i}`} class={`note ${agent ? "by-agent" : ""}`}>
            <p class="row">
              <Origin origin={n.author.split(":")[0]} by={n.author} />
              <time dateTime={n.at} title={n.at} class="muted">
                {timeAgo(n.at)}
              </time>
            </p>
            <p class="note-text">{n.text}</p>
          </li>
        );
      })}
    </ol>
  );
}

/** Shown to every role that may work on tasks; the core refuses a read-only actor anyway. */
function NoteForm({ taskKey, onAdded }: { taskKey: string; onAdded: () => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (currentSession().principal?.role === "read-only") return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post(taskApi(taskKey, "/notes"), { text });
      setText("");
      onAdded();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="note-form" onSubmit={submit}>
      <label for="note-text">Leave a handoff note</label>
      <textarea
        id="note-text"
        value={text}
        maxLength={4000}
        required
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy || text.trim() === ""}>
        Add note
      </button>
    </form>
  );
}

function ContextPack({ taskKey }: { taskKey: string }) {
  const pack = useResource<ContextAnswer>(taskApi(taskKey, "/context"), [...TASK_EVENTS, "audit"]);
  return (
    <Section title="Context pack" id="task-context">
      {!pack.data ? (
        pack.error ? (
          <ErrorBox error={pack.error} />
        ) : (
          <Loading />
        )
      ) : (
        <>
          <p class="muted">
            What an agent receives from <code>keel context {taskKey}</code> or the <code>keel_context</code>{" "}
            tool: {pack.data.totals.tokens.toLocaleString("en")} of {pack.data.budget.toLocaleString("en")}{" "}
            tokens ({pack.data.tokenizer}){pack.data.totals.overBudget ? ", over budget" : ""}.
          </p>
          <table class="pack-sections">
            <caption class="sr-only">Sections of the pack, with their token counts</caption>
            <thead>
              <tr>
                <th scope="col">Section</th>
                <th scope="col">Ref</th>
                <th scope="col">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {pack.data.sections.map((s) => (
                <tr key={`${s.kind}:${s.ref}`}>
                  <td>{s.kind}</td>
                  <td>
                    <code>{s.ref}</code>
                  </td>
                  <td>
                    {s.tokens}
                    {s.truncated ? " (cut)" : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {pack.data.omitted.length > 0 ? (
            <p class="muted">
              Left out: {pack.data.omitted.map((o) => `${o.kind} ${o.ref} (${o.reason})`).join("; ")}
            </p>
          ) : null}
          <pre class="pack-text">{pack.data.text}</pre>
        </>
      )}
    </Section>
  );
}
