// One requirement on a page of its own (/specs/<capability>/<ID>): the card, the edit in place, the history
// timeline with word diffs between successive versions, and its trace — tasks, code, tests, docs and evidence.
// Live: a save to the spec file by anyone shows within a second (spec.edited, audit).
// @req WEB-9
import { currentSession } from "../api";
import { useResource } from "../live";
import { WordDiff } from "../rich";
import { Badge, ErrorBox, Fingerprint, Loading, Origin, Section, Status, timeAgo } from "../ui";
import { EditPanel } from "./specs-edit";
import {
  asPerson,
  type BlameEntry,
  type Link,
  type RequirementAnswer,
  RequirementCard,
  requirementUrl,
  type Trace,
} from "./specs-requirement";

const LIVE = ["spec.edited", "audit"];
const EVIDENCE_TONE: Record<string, string> = { verified: "good", stale: "warn", failing: "bad" };

interface Version {
  version: number;
  kind: string;
  source: string;
  actor: string | null;
  origin: string | null;
  tool: string | null;
  model: string | null;
  change: string | null;
  at: string | null;
  why: string | null;
  commit: { sha: string } | null;
  fingerprint: string | null;
  status: string | null;
  block: string | null;
}

interface HistoryAnswer {
  versions: Version[];
}

export function RequirementFocus({ id, blame }: { id: string; blame: BlameEntry | undefined }) {
  const req = useResource<RequirementAnswer>(requirementUrl(id), LIVE);
  const history = useResource<HistoryAnswer>(
    asPerson() ? `/api/requirements/${encodeURIComponent(id)}/history` : null,
    LIVE,
  );
  if (!req.data) return req.error ? <ErrorBox error={req.error} /> : <Loading />;
  const record = req.data.item;
  const trace = req.data.trace.requirements[0];
  return (
    <>
      {/* A refetch that failed (the requirement was removed, say) leaves the last text shown, and says so. */}
      <ErrorBox error={req.error} />
      <RequirementCard record={record} blame={blame} focused />
      {/* Only where the core would let the edit through: reviewers and owners (policy.ts decides anyway). */}
      {currentSession().canApprove ? (
        <EditPanel key={record.id} record={record} onSaved={req.reload} />
      ) : null}
      <Section title="History" id="req-history">
        {!asPerson() ? (
          <p class="muted">The history holds the raw text of every version: it is shown to people only.</p>
        ) : history.data ? (
          <Timeline versions={history.data.versions} />
        ) : history.error ? (
          <ErrorBox error={history.error} />
        ) : (
          <Loading />
        )}
      </Section>
      <Section title="Trace" id="req-trace">
        {trace ? <TraceLists trace={trace} /> : <p class="muted">Nothing traces to it.</p>}
      </Section>
    </>
  );
}

function Timeline({ versions }: { versions: Version[] }) {
  if (versions.length === 0) return <p class="muted">No versions recorded.</p>;
  // Newest first, as a person scans a history; each diffs against the version before it.
  const rows = versions.map((v, i) => ({ v, before: versions[i - 1]?.block ?? null })).reverse();
  return (
    <ol class="timeline" reversed>
      {rows.map(({ v, before }) => (
        <li key={v.version}>
          <p class="row">
            <strong>v{v.version}</strong> <Badge>{v.kind}</Badge>
            {v.status ? <Status value={v.status} /> : null}
            <Origin origin={v.origin} by={v.actor} />
            {v.actor && !v.origin ? <span>{v.actor}</span> : null}
            <span class="muted">
              {v.at ? timeAgo(v.at) : v.source === "working-tree" ? "uncommitted" : ""}
              {v.commit ? ` · commit ${v.commit.sha.slice(0, 10)}` : ""}
              {[v.tool, v.model].filter(Boolean).length > 0
                ? ` · ${[v.tool, v.model].filter(Boolean).join(", ")}`
                : ""}
            </span>
            {v.change ? <a href={`/changes/${encodeURIComponent(v.change)}`}>change {v.change}</a> : null}
            <Fingerprint value={v.fingerprint} />
          </p>
          {v.why ? <p class="why">“{v.why}”</p> : null}
          {v.block === null ? (
            <p class="muted">{v.kind === "removed" ? "Removed." : "Text not recorded."}</p>
          ) : before === null ? (
            <pre class="block">{v.block}</pre>
          ) : (
            <WordDiff before={before} after={v.block} />
          )}
        </li>
      ))}
    </ol>
  );
}

function TraceLists({ trace }: { trace: Trace }) {
  return (
    <div class="trace-grid">
      <div>
        <h3>Tasks</h3>
        <ul class="plain">
          {trace.tasks.map((t) => (
            <li key={t.key}>
              <a href={`/tasks/${t.key.split("/").map(encodeURIComponent).join("/")}`}>{t.key}</a> {t.title}{" "}
              <Status value={t.done ? "done" : "open"} />
            </li>
          ))}
        </ul>
        {trace.tasks.length === 0 ? <p class="muted">none</p> : null}
      </div>
      <Links title="Code" links={trace.implementations} />
      <Links title="Tests" links={trace.tests} />
      <Links title="Docs" links={trace.docs} />
      <div>
        <h3>Evidence</h3>
        <p>
          <Badge tone={EVIDENCE_TONE[trace.evidenceStatus] ?? "muted"}>{trace.evidenceStatus}</Badge>{" "}
          <span class="muted">{trace.evidenceNote}</span>
        </p>
        <ul class="plain">
          {trace.evidence.map((e, i) => (
            <li key={`${i}-${e.gate}`}>
              <Status value={e.passed ? "done" : "blocked"} /> {e.gate}{" "}
              <span class="muted">{timeAgo(e.at)}</span>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

function Links({ title, links }: { title: string; links: Link[] }) {
  return (
    <div>
      <h3>{title}</h3>
      {links.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <ul class="plain">
          {links.map((l) => (
            <li key={`${l.file}:${l.line}`}>
              <code>
                {l.file}:{l.line}
              </code>{" "}
              {l.state === "ok" ? null : (
                <Badge tone="warn" title={l.reason}>
                  {l.state}
                </Badge>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
