// Before a command reads the specs, an apply a crash interrupted is finished, or rolled back, and the user is
// told on stderr (core/changes/journal.ts decides which). `keel change status` shows it in full instead, and
// `keel change apply` settles it itself, in the core, so that its answer can say so.
// @req TRU-12
import type { FileState, Interrupted } from "../core/changes/journal.js";
import { hasJournal } from "../core/changes/journal-dir.js";
import { actorLabel, resolveActor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import type { GlobalFlags } from "./command.js";
import { type Io, paint } from "./output.js";

/** Settles what a crash interrupted and says what was done; with no journal, one readdir. */
export async function finishInterrupted(
  io: Io,
  global: GlobalFlags,
  options: { quiet?: boolean } = {},
): Promise<Interrupted[]> {
  let project: ProjectRoot;
  try {
    project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  } catch {
    return []; // No project: the command says so itself.
  }
  if (!hasJournal(project.root)) return [];
  const { finishInterruptedApplies } = await import("../core/changes/journal.js");
  const found = finishInterruptedApplies(project, settler(project));
  if (!options.quiet) for (const i of found) io.err(`keel: ${interruptedLines(io, i)[0]}`);
  return found;
}

/** Who settles it: the actor this command runs as, else Keel itself (an unreadable keel.yaml is no reason to wait). */
function settler(project: ProjectRoot): { actor: string; actorKind: "human" | "agent" | "system" } {
  try {
    const actor = resolveActor(loadConfig(project), { cwd: project.root });
    return { actor: actorLabel(actor), actorKind: actor.kind };
  } catch {
    return { actor: "system:keel", actorKind: "system" };
  }
}

const STATE_WORDS: Record<FileState, string> = {
  written: "written before the crash",
  pending: "not yet written",
  edited: "edited since the crash",
};

/** A headline saying what was found and done, then one line per file. */
export function interruptedLines(io: Io, i: Interrupted): string[] {
  const written = i.files.filter((f) => f.state === "written").length;
  const found = `the apply of "${i.change}" was interrupted by a crash${i.startedAt ? ` (started ${i.startedAt} by ${i.by})` : ""} after ${written} of ${i.files.length} files`;
  const head =
    i.outcome === "finished"
      ? `${paint(io, "green", "finished")}: ${found}; it is complete now`
      : i.outcome === "rolled-back"
        ? `${paint(io, "yellow", "rolled back")}: ${found}; ${i.edited.join(", ")} changed since and was left as it is, so nothing of "${i.change}" stays applied: apply it again to merge it with the edit`
        : `${paint(io, "red", "pending")}: ${found}; it could not be settled now (${i.reason}); its specs may be half-applied: fix that and run any keel command`;
  return [head, ...i.files.map((f) => `  ${f.file}  ${paint(io, "dim", STATE_WORDS[f.state])}`)];
}
