// Audit: the hash-chained log, newest first, filtered by actor, action, target and date — the filters live in the
// URL, so a filtered log is a link — and what `keel audit verify` says of the chain.

import { useResource } from "../live";
import { navigate } from "../router";
import { Badge, ErrorBox, Fingerprint, Loading, Section, timeAgo } from "../ui";
import type { ViewProps } from "./index";

interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  actorKind: "human" | "agent" | "system";
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
}

interface LogAnswer {
  total: number;
  limit: number;
  events: AuditEvent[];
}

interface VerifyAnswer {
  ok: boolean;
  events: number;
  firstBad: { seq: number; problem: string } | null;
  problems: Array<{ problem: string }>;
}

const TEXT_FILTERS = [
  { name: "actor", label: "Actor", hint: "kind:name, or a name" },
  { name: "action", label: "Action", hint: "e.g. trace.ack" },
  { name: "target", label: "Target", hint: "an ID, or a prefix up to /" },
] as const;
const FILTERS = [...TEXT_FILTERS.map((f) => f.name), "since"];

/** The filters of the URL's query, as the API's query (unknown keys dropped). */
function filterQuery(query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const name of FILTERS) {
    const v = query.get(name)?.trim();
    if (v) out.set(name, v);
  }
  return out.toString();
}

export default function Audit({ query }: ViewProps) {
  const qs = filterQuery(query);
  const log = useResource<LogAnswer>(`/api/audit${qs ? `?${qs}` : ""}`, ["audit"]);
  const verify = useResource<VerifyAnswer>("/api/audit/verify", ["audit"]);
  return (
    <div class="audit">
      <h1>Audit log</h1>
      <Section title="Verification" id="audit-verify">
        {verify.data ? (
          <Verdict v={verify.data} />
        ) : verify.error ? (
          <ErrorBox error={verify.error} />
        ) : (
          <Loading />
        )}
      </Section>
      <Filters key={qs} query={query} />
      <Section title="Events" id="audit-events">
        <ErrorBox error={log.error} />
        {log.data ? <EventTable answer={log.data} /> : log.error ? null : <Loading />}
      </Section>
    </div>
  );
}

function Verdict({ v }: { v: VerifyAnswer }) {
  if (v.ok)
    return (
      <p role="status">
        <Badge tone="good">chain ok</Badge> {v.events} events, every hash linked to the one before and
        matching the segment in git.
      </p>
    );
  return (
    <div role="status">
      <p>
        <Badge tone="bad">chain broken</Badge>{" "}
        {v.firstBad ? `at event ${v.firstBad.seq}: ${v.firstBad.problem}` : (v.problems[0]?.problem ?? "")}
      </p>
      {v.problems.length > 1 ? (
        <ul>
          {v.problems.slice(1).map((p) => (
            <li key={p.problem}>{p.problem}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Filters({ query }: { query: URLSearchParams }) {
  const submit = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const v = String(data.get(name) ?? "").trim();
      if (v) next.set(name, v);
    }
    const s = next.toString();
    navigate(`/audit${s ? `?${s}` : ""}`);
  };
  return (
    <form class="card filters-form" onSubmit={submit} aria-label="Filter the log">
      {TEXT_FILTERS.map((f) => (
        <div key={f.name}>
          <label for={`audit-${f.name}`}>{f.label}</label>
          <input
            id={`audit-${f.name}`}
            name={f.name}
            type="text"
            placeholder={f.hint}
            defaultValue={query.get(f.name) ?? ""}
          />
        </div>
      ))}
      <div>
        <label for="audit-since">Since</label>
        <input id="audit-since" name="since" type="date" defaultValue={query.get("since") ?? ""} />
      </div>
      <div class="row filter-actions">
        <button type="submit" class="primary">
          Filter
        </button>
        <a href="/audit">Clear</a>
      </div>
    </form>
  );
}

function EventTable({ answer }: { answer: LogAnswer }) {
  if (answer.events.length === 0) return <p>No event matches.</p>;
  return (
    <>
      <p class="muted" aria-live="polite">
        {answer.total > answer.events.length
          ? `The newest ${answer.events.length} of ${answer.total} events`
          : `${answer.total} event${answer.total === 1 ? "" : "s"}`}
      </p>
      <table class="events">
        <caption class="sr-only">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Fingerprints</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {answer.events.map((e) => (
            <tr key={e.seq}>
              <th scope="row">{e.seq}</th>
              <td>
                <time dateTime={e.at} title={e.at}>
                  {timeAgo(e.at)}
                </time>
              </td>
              <td>
                <a href={`/audit?actor=${encodeURIComponent(e.actor)}`} class={`actor-${e.actorKind}`}>
                  {e.actor}
                </a>
              </td>
              <td>
                <a href={`/audit?action=${encodeURIComponent(e.action)}`}>
                  <code>{e.action}</code>
                </a>
              </td>
              <td class="target">{e.target}</td>
              <td>
                {e.before || e.after ? (
                  <>
                    <Fingerprint value={e.before} /> → <Fingerprint value={e.after} />
                  </>
                ) : null}
              </td>
              <td>{e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
