// What a conversion writes, planned in full before the first byte is written: `keel import` and `keel export`
// never overwrite a file, so every target is checked first and one that exists refuses the whole plan.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { projectError } from "../../workspace/errors.js";

export type PlannedKind = "config" | "spec" | "constitution" | "tasks";

export interface PlannedFile {
  /** Target, relative to the folder written into, `/`-separated. */
  file: string;
  kind: PlannedKind;
  /** The file it was converted from, project-relative; absent for a file made from nothing (keel.yaml). */
  from?: string;
  /** Requirements, principles or tasks it holds. */
  count: number;
  content: string;
}

/** Something the target cannot hold, said once where it applies. */
export interface ConversionLoss {
  /** The source file it concerns, project-relative. */
  file: string;
  message: string;
}

/** Refuses (exit 3, nothing written) when a target exists, or two planned files have the same path. */
export function checkTargets(dir: string, files: readonly PlannedFile[], command: string): void {
  const seen = new Set<string>();
  const taken: string[] = [];
  for (const f of files) {
    if (seen.has(f.file) || lstatOrNull(join(dir, f.file)) !== null) taken.push(f.file);
    seen.add(f.file);
  }
  if (taken.length === 0) return;
  const listed = taken.slice(0, 5).join(", ") + (taken.length > 5 ? ` and ${taken.length - 5} more` : "");
  throw projectError(
    `${command} writes only new files, and ${listed} ${taken.length === 1 ? "exists" : "exist"}; nothing was written`,
    "move or remove what is there (it may be an earlier conversion), then run the command again",
    { file: taken[0] as string, line: 1, col: 1 },
  );
}

/** Writes every planned file atomically, after checking that none of them exists. */
export function writePlanned(dir: string, files: readonly PlannedFile[], command: string): void {
  checkTargets(dir, files, command);
  for (const f of files) {
    try {
      writeFileAtomic(join(dir, f.file), f.content);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      throw projectError(
        `cannot write ${f.file} (${code})`,
        "check that the folder is writable; the files listed before it were written",
      );
    }
  }
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
