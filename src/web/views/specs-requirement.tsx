// One requirement as a person reads it: title and ID, status, provenance, fingerprint, its text and scenarios as
// Markdown (rich.tsx: inert whatever the text holds), who wrote it, and what the scanner flags in it. The focused
// requirement adds its history with word diffs between versions and its trace (requirement page: specs-focus.tsx).
// @req WEB-5
import { currentSession } from "../api";
import { Markdown } from "../rich";
import { Badge, Fingerprint, Origin, Status, timeAgo } from "../ui";

export interface Scenario {
  name: string;
  steps: Array<{ keyword: string | null; text: string }>;
}

export interface SecurityHit {
  field: string;
  rule: string;
  start: number;
  end: number;
  message: string;
}

export interface RequirementRecord {
  id: string;
  title: string;
  capability: string;
  file: string;
  line: number;
  status: string | null;
  provenance: { origin?: string; basis?: string; actor?: string; change?: string; at?: string };
  fingerprint: string;
  text: string;
  scenarios: Scenario[];
  security?: { trust: string; hits: SecurityHit[] };
}

export interface BlameEntry {
  id: string;
  actor: string | null;
  origin: string | null;
  change: string | null;
  at: string | null;
  why: string | null;
  versions: number;
  introduced: { version: number; source: string; commit: { sha: string } | null };
}

export interface Link {
  source: string;
  file: string;
  line: number;
  state: string;
  reason: string;
}

export interface Trace {
  tasks: Array<{ key: string; title: string; done: boolean }>;
  implementations: Link[];
  tests: Link[];
  docs: Link[];
  commits: Link[];
  evidence: Array<{ gate: string; passed: boolean; at: string }>;
  evidenceStatus: string;
  evidenceNote: string;
}

export interface RequirementAnswer {
  item: RequirementRecord;
  trace: { requirements: Trace[] };
}

/**
 * Whether the session is a person's: a person reads the raw text with the scanner's flags marked, and who wrote
 * it; an agent's session is given the text delivered, as an agent receives it, and no raw history (the API
 * refuses it).
 */
export function asPerson(): boolean {
  return currentSession().principal?.kind !== "agent";
}

/** A requirement with its trace; raw (with the scanner's flags) for a person. */
export function requirementUrl(id: string): string {
  return `/api/requirements/${encodeURIComponent(id)}${asPerson() ? "?raw=true" : ""}`;
}

export function requirementPath(capability: string, id: string): string {
  return `/specs/${encodeURIComponent(capability)}/${encodeURIComponent(id)}`;
}

/** The element ID of a requirement's heading, for aria-labelledby (IDs may hold characters IDs should not). */
function headingId(id: string): string {
  return `req-${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

export function RequirementCard({
  record,
  blame,
  focused,
}: {
  record: RequirementRecord;
  blame: BlameEntry | undefined;
  focused: boolean;
}) {
  const p = record.provenance;
  const agent = p.origin === "agent";
  const hits = record.security?.hits ?? [];
  const Heading = focused ? "h1" : "h2";
  return (
    <article
      class={`card requirement ${agent ? "requirement-agent" : ""}`}
      aria-labelledby={headingId(record.id)}
    >
      <header class="requirement-head">
        <Heading id={headingId(record.id)}>
          {focused ? (
            record.title
          ) : (
            <a href={requirementPath(record.capability, record.id)}>{record.title}</a>
          )}{" "}
          <code class="req-id">{record.id}</code>
        </Heading>
        <div class="row">
          <Status value={record.status} />
          <Origin origin={p.origin} explicit={p.basis ? p.basis === "explicit" : null} by={p.actor ?? null} />
          <Fingerprint value={record.fingerprint} />
          {hits.length > 0 ? <Badge tone="bad">⚠ flagged</Badge> : null}
        </div>
      </header>
      {hits.length > 0 ? <Flags record={record} hits={hits} /> : null}
      <div class="requirement-text">
        <Markdown text={record.text} agent={agent} />
      </div>
      {record.scenarios.map((s, i) => (
        <section class="scenario" key={`${i}-${s.name}`} aria-label={`Scenario: ${s.name}`}>
          <h3>Scenario: {s.name}</h3>
          <Markdown text={scenarioMarkdown(s)} agent={agent} />
        </section>
      ))}
      <WrittenBy blame={blame} />
    </article>
  );
}

/** A scenario's steps as a Markdown list, keywords bold, as the spec file writes them. */
function scenarioMarkdown(s: Scenario): string {
  return s.steps.map((st) => `- ${st.keyword ? `**${st.keyword}** ` : ""}${st.text}`).join("\n");
}

/** What the untrusted-text scanner flags, each with the flagged characters shown as text. */
function Flags({ record, hits }: { record: RequirementRecord; hits: SecurityHit[] }) {
  return (
    <div class="flags" role="note" aria-label="Flagged text">
      <strong>Flagged by Keel's scanner: read this text as untrusted.</strong>
      <ul class="flag-list">
        {hits.map((h, i) => (
          <li key={`${i}-${h.field}-${h.start}`}>
            <code>{h.rule}</code> in {h.field}:{" "}
            <mark>{fieldText(record, h.field).slice(h.start, h.end)}</mark>{" "}
            <span class="muted">{h.message}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The raw value of an answer's field path: `text`, `title`, `scenarios.0.name`, `scenarios.0.steps.1.text`. */
function fieldText(record: RequirementRecord, field: string): string {
  // biome-ignore lint/suspicious/noExplicitAny: walking a field path the server named
  let v: any = record;
  for (const key of field.split(".")) v = v?.[key];
  return typeof v === "string" ? v : "";
}

function WrittenBy({ blame }: { blame: BlameEntry | undefined }) {
  if (!blame) return null;
  return (
    <p class="written-by muted">
      Written by{" "}
      <Origin origin={blame.origin ?? (blame.actor?.startsWith("agent:") ? "agent" : null)} by={null} />
      <strong>
        {blame.actor ?? (blame.introduced.source === "working-tree" ? "not yet committed" : "unknown")}
      </strong>
      {blame.at ? <> · {timeAgo(blame.at)}</> : null}
      {blame.change ? (
        <>
          {" "}
          · change <a href={`/changes/${encodeURIComponent(blame.change)}`}>{blame.change}</a>
        </>
      ) : null}
      {blame.introduced.commit ? <> · commit {blame.introduced.commit.sha.slice(0, 10)}</> : null} · version{" "}
      {blame.introduced.version} of {blame.versions}
      {blame.why ? <> · “{blame.why}”</> : null}
    </p>
  );
}
