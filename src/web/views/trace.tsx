// Trace and drift: the links between requirements and code, tests, docs and commits that need a person — suspect
// (the requirement changed since the link was made), dangling (it names no living requirement) and stale (the code
// changed after the last passing evidence) — with the requirement's fingerprint when linked and now. A person may
// acknowledge a suspect link with the reason it still holds; an agent is shown no control, and the API refuses it.
// @req WEB-11
import { useState } from "preact/hooks";
import { ApiError, currentSession, post } from "../api";
import { useResource } from "../live";
import { Badge, ErrorBox, Fingerprint, Loading, Section } from "../ui";
import type { ViewProps } from "./index";

type LinkState = "suspect" | "dangling" | "stale";

interface TraceLink {
  id: string;
  kind: "implements" | "verifies" | "documents" | "commit";
  target: string;
  file: string;
  line: number;
  state: LinkState;
  reason: string;
  commit: string | null;
  baseline: string | null;
  current: string | null;
  requirement: { id: string; title: string; capability: string; fingerprint: string } | null;
}

interface LinksAnswer {
  counts: Record<LinkState, number>;
  links: TraceLink[];
}

const STATES: Array<{ state: LinkState; title: string; tone: string; what: string }> = [
  {
    state: "suspect",
    title: "Suspect",
    tone: "warn",
    what: "The requirement changed since the link was made: review that the code still does what it says.",
  },
  {
    state: "dangling",
    title: "Dangling",
    tone: "bad",
    what: "The link names no living requirement: fix the ID, or link the requirement that replaced it.",
  },
  {
    state: "stale",
    title: "Stale",
    tone: "info",
    what: "The code changed after the last passing evidence: run the requirement's gates again.",
  },
];

export default function Trace({ query }: ViewProps) {
  const only = STATES.find((s) => s.state === query.get("state"))?.state ?? null;
  const links = useResource<LinksAnswer>("/api/trace/links", ["spec.edited", "drift.*", "audit"]);
  if (links.error && !links.data) return <ErrorBox error={links.error} />;
  if (!links.data) return <Loading />;
  const { counts } = links.data;
  const shown = STATES.filter((s) => only === null || s.state === only);
  return (
    <div class="trace">
      <h1>Trace and drift</h1>
      <nav aria-label="Link states" class="row filters">
        <a class="state-filter" href="/trace" aria-current={only === null ? "page" : undefined}>
          All {counts.suspect + counts.dangling + counts.stale}
        </a>
        {STATES.map((s) => (
          <a
            key={s.state}
            class="state-filter"
            href={`/trace?state=${s.state}`}
            aria-current={only === s.state ? "page" : undefined}
          >
            {s.title} {counts[s.state]}
          </a>
        ))}
      </nav>
      <ErrorBox error={links.error} />
      {shown.map((s) => (
        <Section key={s.state} title={`${s.title} links (${counts[s.state]})`} id={`trace-${s.state}`}>
          <p class="muted">{s.what}</p>
          <LinkList
            links={links.data?.links.filter((l) => l.state === s.state) ?? []}
            tone={s.tone}
            onAcked={links.reload}
          />
        </Section>
      ))}
    </div>
  );
}

function LinkList({ links, tone, onAcked }: { links: TraceLink[]; tone: string; onAcked: () => void }) {
  if (links.length === 0) return <p>None.</p>;
  return (
    <ul class="plain trace-links">
      {links.map((l) => (
        <li key={l.id} class="trace-link">
          <LinkHead link={l} tone={tone} />
          <p class="fingerprints">
            Fingerprint when linked <Fingerprint value={l.baseline} />
            {l.baseline === null ? <span class="muted">unknown</span> : null} → now{" "}
            <Fingerprint value={l.current} />
            {l.current === null ? <span class="muted">no requirement</span> : null}
          </p>
          <p class="muted">{l.reason}</p>
          {l.state === "suspect" && currentSession().principal?.kind === "human" ? (
            <AckForm link={l} onAcked={onAcked} />
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function LinkHead({ link: l, tone }: { link: TraceLink; tone: string }) {
  const where = l.file.startsWith("commit:") ? `commit ${l.file.slice(7, 19)}` : `${l.file}:${l.line}`;
  return (
    <p class="trace-head">
      <Badge tone={tone}>{l.state}</Badge> <code>{where}</code> <span class="muted">{l.kind}</span>{" "}
      {l.requirement ? (
        <a href={`/specs/${encodeURIComponent(l.requirement.capability)}`}>
          <strong>{l.requirement.id}</strong> {l.requirement.title}
        </a>
      ) : (
        <strong>{l.target}</strong>
      )}
    </p>
  );
}

/** A person says why the link still holds; the core records it at the requirement's current fingerprint. */
function AckForm({ link, onAcked }: { link: TraceLink; onAcked: () => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const field = `ack-${link.id.replace(/[^\w-]/g, "_")}`;
  const submit = (e: Event) => {
    e.preventDefault();
    if (reason.trim() === "") {
      setError(new ApiError(400, "reason", "Say why the link still holds.", "", null));
      return;
    }
    setBusy(true);
    setError(null);
    post("/api/trace/ack", { link: link.id, reason }).then(
      () => {
        setBusy(false);
        onAcked();
      },
      (err: Error) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return (
    <form class="ack" onSubmit={submit}>
      <label for={field}>
        Reason the link still holds <span class="sr-only">({link.id})</span>
      </label>
      <div class="row">
        <input
          id={field}
          type="text"
          required
          maxLength={4000}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary" disabled={busy}>
          Acknowledge
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
