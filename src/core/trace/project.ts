// One traced project: the model, the task graph, the scan and the judged report, loaded once for whichever view
// (`keel trace`, `drift`, `coverage`, `check`) asks.
import { type LoadedProject, loadProject } from "../project.js";
import { buildGraph, type TaskGraph } from "../tasks/graph.js";
import { loadTasks } from "../tasks/load.js";
import { buildTrace, type TraceReport } from "./report.js";
import { scanRepository } from "./scan/index.js";

export interface TracedProject {
  project: LoadedProject;
  graph: TaskGraph;
  report: TraceReport;
}

export async function traceProject(start: string, explicitRoot: boolean): Promise<TracedProject> {
  const project = loadProject(start, { explicitRoot });
  const root = project.project.root;
  const knownIds = project.specs.flatMap((s) => s.requirements.filter((r) => r.explicitId).map((r) => r.id));
  const scan = await scanRepository(root, { knownIds });
  const graph = buildGraph(loadTasks(root));
  return { project, graph, report: buildTrace(root, project, scan, graph) };
}
