// One traced project: the model, the task graph, the scan and the judged report, loaded once for whichever view
// (`keel trace`, `drift`, `coverage`, `check`) asks.
// @req TRC-11
import { contentHash } from "../../model/fingerprint.js";
import { localId } from "../../model/namespace.js";
import { memoUntilChange } from "../../workspace/freshness.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type LoadedProject, loadProject } from "../project.js";
import type { TaskGraph } from "../tasks/graph.js";
import { loadTaskGraph } from "../tasks/load.js";
import { evidenceStamp } from "../verify/evidence.js";
import { resolveLinkRoots } from "./owners.js";
import { buildTrace, type TraceReport } from "./report.js";
import { scanRepository } from "./scan/index.js";

export interface TracedProject {
  project: LoadedProject;
  graph: TaskGraph;
  report: TraceReport;
}

/**
 * Traces the project. Callers asking at once — the clients of one `keel serve` — share the work: while a trace
 * runs, later callers wait for one more trace that starts when it ends (it may have read files before their
 * edits, so its answer could be older than their question), and every caller arriving meanwhile joins that one.
 * At most one trace of a project runs at a time, and none answers a question asked before it began reading.
 */
export function traceProject(start: string, explicitRoot: boolean): Promise<TracedProject> {
  const key = `${explicitRoot ? "explicit" : "search"}:${start}`;
  let flight = flights.get(key);
  if (!flight) {
    flight = new Flight(key, () => traceNow(start, explicitRoot));
    flights.set(key, flight);
    return flight.current;
  }
  return flight.join();
}

const flights = new Map<string, Flight>();

class Flight {
  current: Promise<TracedProject>;
  private queued: Promise<TracedProject> | null = null;

  constructor(
    private readonly key: string,
    private readonly run: () => Promise<TracedProject>,
  ) {
    this.current = this.start();
  }

  join(): Promise<TracedProject> {
    const after = () => {
      this.queued = null;
      this.current = this.start();
      return this.current;
    };
    this.queued ??= this.current.then(after, after);
    return this.queued;
  }

  private start(): Promise<TracedProject> {
    const p = this.run();
    const done = () => {
      if (this.current === p && this.queued === null) flights.delete(this.key);
    };
    p.then(done, done);
    return p;
  }
}

/**
 * A process with a watcher keeps the last trace while it sees no change to the files (or git) and no new evidence
 * is recorded. Shared then: callers read the trace and never change it.
 */
function traceNow(start: string, explicitRoot: boolean): Promise<TracedProject> {
  const root = findProjectRoot(start, explicitRoot).root;
  return memoUntilChange(root, `trace:${explicitRoot}:${start}:${evidenceStamp(root)}`, () =>
    traceFresh(start, explicitRoot),
  );
}

async function traceFresh(start: string, explicitRoot: boolean): Promise<TracedProject> {
  const project = loadProject(start, { explicitRoot });
  const root = project.project.root;
  const roots = project.project.roots;
  const explicit = project.specs.flatMap((s) => s.requirements.filter((r) => r.explicitId).map((r) => r.id));
  // A root's IDs as its code writes them too (`PAY-1` for `payments:PAY-1`), so a test name with one is seen.
  const knownIds = roots.length === 0 ? explicit : [...new Set([...explicit, ...explicit.map(localId)])];
  // The scan reads code and git, never the intent folders (it is told the IDs): an edit there leaves it as it is.
  const scan = await memoUntilChange(
    root,
    `scan:${contentHash(knownIds.join("\n"))}`,
    () => scanRepository(root, { knownIds }),
    "code",
  );
  const known = new Set(project.specs.flatMap((s) => s.requirements.map((r) => r.id)));
  const graph = loadTaskGraph(root);
  return { project, graph, report: buildTrace(root, project, resolveLinkRoots(scan, roots, known), graph) };
}
