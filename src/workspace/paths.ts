// Keeping to the project: a path is followed only when its real location (symbolic links resolved) is the
// project's root or inside it.
import { realpathSync } from "node:fs";
import { sep } from "node:path";

/** Whether `real` (a resolved path) is `rootReal` itself or inside it. */
export function isWithin(rootReal: string, real: string): boolean {
  return real === rootReal || real.startsWith(rootReal + sep);
}

/** The real path of `p`, or null when it does not resolve (missing, a loop, unreadable). */
export function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** `sub/dir`, `./sub/dir/` → `sub/dir`; "" or "." → "."; null for an absolute path or one that climbs out. */
export function projectRelativeDir(raw: string): string | null {
  const text = raw.trim().replace(/\\/g, "/");
  if (text.startsWith("/") || /^[A-Za-z]:/.test(text)) return null;
  const parts = text.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return null;
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * The folder of audit segments, relative to the project root: Keel's own record, appended to by every audited
 * command, so it is left out of what describes the project's files (git-tree.ts, tree-watch.ts).
 */
export const AUDIT_DIR = "keel/audit";
