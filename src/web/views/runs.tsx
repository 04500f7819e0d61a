// Runs: the work loop (`keel run`) as `keel run status` sees it — the newest run, each worker's task, attempt and
// phase with the time in it (counted on in the page between refreshes), the run's attempts with the output the red
// gate gave the next attempt, and the green tasks waiting for a person's review.
import { useEffect, useState } from "preact/hooks";
import { useResource } from "../live";
import { Badge, ErrorBox, Loading, Section, timeAgo } from "../ui";

interface RunsAnswer {
  run: {
    id: string;
    startedAt: string;
    endedAt: string | null;
    status: string;
    alive: boolean;
  } | null;
  workers: Array<{
    worker: number;
    task: string;
    attempt: number;
    phase: string;
    agent: string;
    elapsedMs: number;
    taskElapsedMs: number;
  }>;
  counts: { landed: number; blocked: number; review: number; attempts: number };
  attempts: Array<{
    taskId: string;
    attempt: number;
    agent: string;
    startedAt: string;
    endedAt: string;
    outcome: string;
    agentMs: number;
    gateMs: number;
    feedback: string | null;
  }>;
  reviews: Array<{ taskId: string; branch: string; commit: string; requestedAt: string }>;
}

function taskHref(key: string): string {
  return `/tasks/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Milliseconds since the answer arrived, ticking each second while `ticking`. */
function useSince(answer: unknown, ticking: boolean): number {
  const [at, setAt] = useState(Date.now());
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setAt(Date.now());
    setNow(Date.now());
  }, [answer]);
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now - at;
}

export default function Runs() {
  const runs = useResource<RunsAnswer>("/api/runs", ["run.*", "task.*", "audit"]);
  const since = useSince(runs.data, (runs.data?.workers.length ?? 0) > 0);
  if (runs.error && !runs.data) return <ErrorBox error={runs.error} />;
  if (!runs.data) return <Loading />;
  const r = runs.data;
  return (
    <div class="runs">
      <h1>Runs</h1>
      <ErrorBox error={runs.error} />
      {r.run === null ? (
        <section class="card empty" aria-labelledby="runs-none">
          <h2 id="runs-none">No run yet</h2>
          <p>
            <code>keel run</code> hands each ready task to a coding agent in its own worktree, feeds red gates
            back until they pass, and lands only green work. Its workers, attempts and review queue show here
            as it goes.
          </p>
        </section>
      ) : (
        <RunSummary run={r.run} counts={r.counts} />
      )}
      {r.run !== null ? (
        <Section title={`Workers (${r.workers.length})`} id="runs-workers">
          {r.workers.length === 0 ? (
            <p>No worker is busy.</p>
          ) : (
            <table>
              <caption class="sr-only">Each worker's task, attempt, phase and time in it</caption>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Task</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Agent</th>
                  <th scope="col">In phase</th>
                </tr>
              </thead>
              <tbody>
                {r.workers.map((w) => (
                  <tr key={w.worker}>
                    <th scope="row">w{w.worker}</th>
                    <td>
                      <a href={taskHref(w.task)}>{w.task}</a>
                    </td>
                    <td>{w.attempt}</td>
                    <td>
                      <Badge tone="info">{w.phase}</Badge>
                    </td>
                    <td>{w.agent}</td>
                    <td>{duration(w.elapsedMs + since)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      ) : null}
      <Section title={`Waiting for review (${r.reviews.length})`} id="runs-review">
        {r.reviews.length === 0 ? (
          <p>No green task waits for review.</p>
        ) : (
          <ul class="plain">
            {r.reviews.map((v) => (
              <li key={v.taskId}>
                <a href={taskHref(v.taskId)}>{v.taskId}</a> <code>{v.branch}</code>{" "}
                <code class="fingerprint">{v.commit.slice(0, 12)}</code>{" "}
                <span class="muted">{timeAgo(v.requestedAt)}</span>
              </li>
            ))}
          </ul>
        )}
        <p class="muted">
          Approve or reject with <code>keel run review approve|reject TASK</code>.
        </p>
      </Section>
      {r.run !== null ? <Attempts attempts={r.attempts} /> : null}
    </div>
  );
}

function RunSummary({ run, counts }: { run: NonNullable<RunsAnswer["run"]>; counts: RunsAnswer["counts"] }) {
  return (
    <Section title={`Run ${run.id}`} id="runs-run">
      <p>
        {run.alive ? <Badge tone="good">running</Badge> : <Badge tone="muted">{run.status}</Badge>} started{" "}
        {timeAgo(run.startedAt)}
        {run.endedAt ? `, ended ${timeAgo(run.endedAt)}` : ""}
      </p>
      <ul class="plain row run-counts">
        <li>
          <strong>{counts.landed}</strong> landed
        </li>
        <li>
          <strong>{counts.blocked}</strong> blocked
        </li>
        <li>
          <strong>{counts.review}</strong> in review
        </li>
        <li>
          <strong>{counts.attempts}</strong> attempts
        </li>
      </ul>
    </Section>
  );
}

const OUTCOME_TONE: Record<string, string> = { green: "good", "gate-failed": "bad", boundary: "bad" };

function Attempts({ attempts }: { attempts: RunsAnswer["attempts"] }) {
  return (
    <Section title={`Attempts (${attempts.length})`} id="runs-attempts">
      {attempts.length === 0 ? <p>No attempt finished yet.</p> : null}
      <ul class="plain attempts">
        {attempts.map((a) => (
          <li key={`${a.taskId}#${a.attempt}`} class="attempt">
            <p>
              <a href={taskHref(a.taskId)}>{a.taskId}</a> attempt {a.attempt}{" "}
              <Badge tone={OUTCOME_TONE[a.outcome] ?? "warn"}>{a.outcome}</Badge>{" "}
              <span class="muted">
                {a.agent} · agent {duration(a.agentMs)} · gates {duration(a.gateMs)} · {timeAgo(a.endedAt)}
              </span>
            </p>
            {a.feedback ? (
              <details open={a.outcome !== "green"}>
                <summary>What the next attempt was told</summary>
                <pre class="tail">{a.feedback}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}
