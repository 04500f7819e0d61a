// Moving a store aside: the damaged, empty or stale file (with its WAL and shared-memory files) is renamed,
// never deleted, so whatever it still holds can be recovered by hand later.
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../../store/index-db.js";
import { STATE_FILE } from "../../store/state-db.js";

const PARTS = ["", "-wal", "-shm"];

/** The store's files that exist now, project-relative. */
export function storeFiles(root: string): string[] {
  return PARTS.map((p) => `${STATE_DIR}/${STATE_FILE}${p}`).filter((rel) => existsSync(join(root, rel)));
}

/** Where the store moves: `.keel/state.db.damaged-<UTC time>` (with `-2`, `-3`… when that name is taken). */
export function asideName(root: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const base = `${STATE_DIR}/${STATE_FILE}.damaged-${stamp}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (PARTS.every((p) => !existsSync(join(root, name + p)))) return name;
  }
}

/** Renames the store's files to `aside` (keeping the -wal/-shm suffixes SQLite looks for); returns the new names. */
export function moveAside(root: string, aside: string): string[] {
  const moved: string[] = [];
  for (const p of PARTS) {
    const from = join(root, STATE_DIR, STATE_FILE + p);
    if (!existsSync(from)) continue;
    renameSync(from, join(root, aside + p));
    moved.push(aside + p);
  }
  return moved;
}
