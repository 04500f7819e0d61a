// The project at a glance: requirements by status and origin, changes awaiting review, conflicts, drift,
// coverage per capability, gates and the work running now. Each panel links to the view that says more.
import { useResource } from "../live";
import { Badge, ErrorBox, Loading, Section, Status } from "../ui";

interface StatusAnswer {
  project: { name: string | null; layouts: string[] };
  specs: {
    count: number;
    requirements: number;
    byStatus: Record<string, number>;
    byOrigin: Record<string, number>;
  };
  constitution: { file: string; principles: number; gates: number } | null;
  changes: {
    open: number;
    overlaps: number;
    items: Array<{
      id: string;
      status: string;
      archived: boolean;
      tasks: { done: number; total: number } | null;
      overlaps: number;
    }>;
  };
  validation: { ok: boolean; errors: number; warnings: number };
}
interface CoverageAnswer {
  capabilities: Array<{
    capability: string;
    approved: number;
    implemented: number;
    tested: number;
    verified: number;
  }>;
}
interface DriftAnswer {
  summary: { errors: number; warnings: number; info: number };
  findings: Array<{ rule: string }>;
}
interface GatesAnswer {
  gates: Array<{ gate: { name: string; command: string }; state: string }>;
}
interface ConflictsAnswer {
  conflicts: Array<{ id: string }>;
}
interface TasksAnswer {
  tasks: Array<{
    key: string;
    title: string;
    status: string;
    ready: boolean;
    claim?: { holder: string; expiresAt: string } | null;
  }>;
}

export default function Overview() {
  const status = useResource<StatusAnswer>("/api/status", ["spec.edited", "change.*", "audit"]);
  const coverage = useResource<CoverageAnswer>("/api/coverage", ["spec.edited", "audit", "drift.checked"]);
  const drift = useResource<DriftAnswer>("/api/drift", [
    "spec.edited",
    "drift.found",
    "drift.resolved",
    "audit",
  ]);
  const gates = useResource<GatesAnswer>("/api/gates", ["audit", "spec.edited"]);
  const conflicts = useResource<ConflictsAnswer>("/api/conflicts", ["change.*", "audit"]);
  const tasks = useResource<TasksAnswer>("/api/tasks", ["task.*", "spec.edited"]);
  if (status.error) return <ErrorBox error={status.error} />;
  if (!status.data) return <Loading />;
  const s = status.data;
  const running = tasks.data?.tasks.filter((t) => t.status === "claimed") ?? [];
  const ready = tasks.data?.tasks.filter((t) => t.ready).length ?? 0;
  return (
    <div class="overview">
      <h1>{s.project.name ?? "Project"}</h1>
      <div class="grid">
        <Section title="Requirements" id="ov-reqs">
          <p class="big">{s.specs.requirements}</p>
          <p>
            in <a href="/specs">{s.specs.count} specs</a>
          </p>
          <Counts title="By status" counts={s.specs.byStatus} />
          <Counts title="By origin" counts={s.specs.byOrigin} />
          <p>
            Validation:{" "}
            {s.validation.ok ? <Badge tone="good">valid</Badge> : <Badge tone="bad">invalid</Badge>}{" "}
            {s.validation.errors} errors, {s.validation.warnings} warnings
          </p>
        </Section>
        <Section title="Awaiting review" id="ov-changes">
          <p class="big">{s.changes.open}</p>
          <ul class="plain">
            {s.changes.items
              .filter((c) => !c.archived)
              .map((c) => (
                <li key={c.id}>
                  <a href={`/changes/${encodeURIComponent(c.id)}`}>{c.id}</a> <Status value={c.status} />
                  {c.overlaps > 0 ? <Badge tone="warn">{c.overlaps} overlap(s)</Badge> : null}
                  {c.tasks ? (
                    <span class="muted">
                      {" "}
                      {c.tasks.done}/{c.tasks.total} tasks
                    </span>
                  ) : null}
                </li>
              ))}
          </ul>
        </Section>
        <Section title="Conflicts" id="ov-conflicts">
          {conflicts.data ? (
            <p class="big">
              <a href="/conflicts">{conflicts.data.conflicts.length}</a>
            </p>
          ) : (
            <ErrorBox error={conflicts.error} />
          )}
          <p class="muted">open, waiting for a person</p>
        </Section>
        <Section title="Drift" id="ov-drift">
          {drift.data ? (
            <>
              <p class="big">
                <a href="/trace">{drift.data.summary.errors + drift.data.summary.warnings}</a>
              </p>
              <Counts
                title="By rule"
                counts={countBy(drift.data.findings.map((f) => f.rule.replace(/^drift\//, "")))}
              />
            </>
          ) : (
            <ErrorBox error={drift.error} />
          )}
        </Section>
        <Section title="Gates" id="ov-gates">
          {gates.data ? (
            <ul class="plain">
              {gates.data.gates.map((g) => (
                <li key={g.gate.name}>
                  <Badge tone={g.state === "passed" ? "good" : g.state === "failed" ? "bad" : "muted"}>
                    {g.state}
                  </Badge>{" "}
                  {g.gate.name} <code>{g.gate.command}</code>
                </li>
              ))}
            </ul>
          ) : (
            <ErrorBox error={gates.error} />
          )}
        </Section>
        <Section title="Running work" id="ov-running">
          <p>
            <a href="/tasks">{running.length} claimed</a>, {ready} ready
          </p>
          <ul class="plain">
            {running.slice(0, 8).map((t) => (
              <li key={t.key}>
                <a href={`/tasks/${t.key.split("/").map(encodeURIComponent).join("/")}`}>{t.key}</a>{" "}
                {t.claim?.holder ?? ""}
              </li>
            ))}
          </ul>
        </Section>
      </div>
      <Section title="Coverage per capability" id="ov-coverage">
        {coverage.data ? (
          <CoverageTable rows={coverage.data.capabilities} />
        ) : (
          <ErrorBox error={coverage.error} />
        )}
      </Section>
    </div>
  );
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

function Counts({ title, counts }: { title: string; counts: Record<string, number> }) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const total = entries.reduce((n, [, v]) => n + v, 0) || 1;
  return (
    <div class="counts">
      <h3>{title}</h3>
      <ul class="bars">
        {entries.map(([k, n]) => (
          <li key={k}>
            <span class="bar-label">{k}</span>
            <meter min={0} max={total} value={n} aria-label={`${k}: ${n}`} />
            <span class="bar-value">{n}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function CoverageTable({ rows }: { rows: CoverageAnswer["capabilities"] }) {
  return (
    <table>
      <caption class="sr-only">
        Approved requirements implemented, tested and verified, per capability
      </caption>
      <thead>
        <tr>
          <th scope="col">Capability</th>
          <th scope="col">Approved</th>
          <th scope="col">Implemented</th>
          <th scope="col">Tested</th>
          <th scope="col">Verified</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.capability}>
            <th scope="row">
              <a href={`/specs/${encodeURIComponent(r.capability)}`}>{r.capability}</a>
            </th>
            <td>{r.approved}</td>
            <td>{pct(r.implemented, r.approved)}</td>
            <td>{pct(r.tested, r.approved)}</td>
            <td>{pct(r.verified, r.approved)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function pct(n: number, of: number): string {
  return of === 0 ? "–" : `${n} (${Math.round((100 * n) / of)}%)`;
}
