// Where the journals of interrupted applies wait (journal.ts), apart from it so that the check every command
// makes before reading the specs loads nothing else.
// @req TRU-12
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../../store/index-db.js";

export const JOURNAL_DIR = `${STATE_DIR}/journal`;

/** True when a journal (or a killed writer's temporary file) is waiting: one readdir, nothing when none. */
export function hasJournal(root: string): boolean {
  try {
    return readdirSync(join(root, JOURNAL_DIR)).length > 0;
  } catch {
    return false;
  }
}
