// `keel drift`: where intent and code have come apart, as findings (the shape `keel validate` prints).
//   - approved requirements with no implementation, no test, or only suspect or stale links;
//   - each suspect link, where it is written;
//   - links naming unknown or deprecated requirements (or unknown tasks);
//   - files changed by a task's commits (`Task:` trailer) outside the task's boundaries;
//   - specs changed after the evidence that verified them.
// @req TRC-8
import picomatch from "picomatch";
import type { Finding, Severity } from "../../model/types.js";
import { gitOutput as git } from "../../workspace/git.js";
import type { TaskGraph, TaskNode } from "../tasks/graph.js";
import type { RequirementTrace, TraceReport } from "./report.js";
import type { JudgedLink } from "./state.js";

function at(
  rule: string,
  severity: Severity,
  where: { file: string; line: number; col?: number },
  message: string,
  hint: string,
  target: string,
): Finding {
  return { rule, severity, file: where.file, line: where.line, col: where.col ?? 1, message, hint, target };
}

function requirementFindings(r: RequirementTrace): Finding[] {
  if (r.status !== "approved") return [];
  const out: Finding[] = [];
  const links = [...r.implementations, ...r.tests, ...r.docs, ...r.commits];
  const name = `approved requirement ${r.id} ("${r.title}")`;
  const sound = links.filter((l) => l.state === "ok");
  if (links.length > 0 && sound.length === 0 && links.some((l) => l.state === "suspect"))
    out.push(
      at(
        "drift/only-suspect",
        "error",
        r,
        `${name} has only suspect or stale links`,
        `review them (\`keel trace ${r.id}\`), then \`keel trace ack\` the ones that still hold`,
        r.id,
      ),
    );
  else if (links.length > 0 && sound.length === 0)
    out.push(
      at(
        "drift/stale-evidence",
        "warning",
        r,
        `every file linked to ${name} changed after its last passing evidence`,
        `run \`keel verify --req ${r.id}\``,
        r.id,
      ),
    );
  // No link of a kind at all; links that exist but are suspect are the finding above.
  if (r.implementations.length === 0)
    out.push(
      at(
        "drift/unimplemented",
        "warning",
        r,
        `${name} has no implementation linked`,
        `mark the code that implements it with a comment \`@req ${r.id}\``,
        r.id,
      ),
    );
  if (r.tests.length === 0)
    out.push(
      at(
        "drift/untested",
        "warning",
        r,
        `${name} has no test linked`,
        `mark its test with \`@verifies ${r.id}\`, or put ${r.id} in the test's name`,
        r.id,
      ),
    );
  if (r.evidenceStatus === "stale" && r.evidence.some((g) => g.fingerprint !== r.fingerprint))
    out.push(
      at(
        "drift/spec-after-evidence",
        "warning",
        r,
        `${r.id} changed after the evidence that verified it: ${r.evidenceNote}`,
        `run \`keel verify --req ${r.id}\``,
        r.id,
      ),
    );
  return out;
}

function linkFinding(l: JudgedLink): Finding | null {
  const where = l.file.startsWith("commit:") ? { file: l.file, line: 0 } : l;
  if (l.state === "dangling")
    return at("drift/dangling-link", "error", where, l.reason, "fix or remove the reference", l.target);
  if (l.state === "suspect")
    return at(
      "drift/suspect-link",
      "warning",
      where,
      `${l.kind} link to ${l.reason}`,
      "`keel trace ack` it once reviewed",
      l.target,
    );
  return null;
}

/** Files each `Task:`-trailer commit changed that lie outside that task's boundaries. */
function boundaryFindings(root: string, report: TraceReport, graph: TaskGraph): Finding[] {
  const taskCommits = report.taskCommits;
  if (taskCommits.length === 0) return [];
  const shas = [...new Set(taskCommits.map((c) => c.commit))];
  const listing = git(root, ["show", "--no-renames", "--name-only", "--format=%x1e%H", ...shas]) ?? "";
  const filesOf = new Map<string, string[]>();
  for (const block of listing.split("\x1e")) {
    const [sha, ...files] = block.split("\n").filter((l) => l.trim() !== "");
    if (sha) filesOf.set(sha, files);
  }
  const out: Finding[] = [];
  for (const { commit, task } of taskCommits) {
    const node = graph.nodes.get(task) as TaskNode | undefined;
    if (!node || node.task.boundaries.length === 0) continue;
    const inside = picomatch(node.task.boundaries, { dot: true });
    for (const file of filesOf.get(commit) ?? []) {
      if (inside(file) || file.startsWith("keel/") || file.startsWith("openspec/")) continue;
      out.push(
        at(
          "drift/out-of-bounds",
          "error",
          { file, line: 1 },
          `commit ${commit.slice(0, 12)} of task ${task} changed ${file}, outside its boundaries (${node.task.boundaries.join(", ")})`,
          `move the change to a task whose boundaries include it, or widen ${task}'s boundaries in ${node.task.file}`,
          task,
        ),
      );
    }
  }
  return out;
}

export function driftFindings(root: string, report: TraceReport, graph: TaskGraph): Finding[] {
  const out: Finding[] = [];
  for (const r of report.requirements) {
    out.push(...requirementFindings(r));
    for (const l of [...r.implementations, ...r.tests, ...r.docs, ...r.commits]) {
      const f = linkFinding(l);
      if (f) out.push(f);
    }
  }
  for (const l of report.dangling) {
    const f = linkFinding(l);
    if (f) out.push(f);
  }
  out.push(...boundaryFindings(root, report, graph));
  return out;
}
