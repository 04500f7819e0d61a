// Whether a project is in team mode, answered without opening any store: KEEL_STORE_URL, else keel.yaml `store:`.
// Kept apart from select.ts (which loads the stores) so that a command can ask it cheaply after it ran.
// @req TEAM-2
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_FILE, type KeelConfig } from "../workspace/config.js";

/** The team store's URL for a project, or null for the embedded store. */
export function teamStoreUrl(config: Pick<KeelConfig, "store">): string | null {
  const fromEnv = process.env.KEEL_STORE_URL?.trim();
  if (fromEnv) return fromEnv === "sqlite" ? null : fromEnv;
  return config.store;
}

/**
 * Whether the project may use a team store, without parsing keel.yaml: the read commands that need no
 * configuration (`keel tasks ready`) ask this first, so that the embedded path keeps its start-up cost.
 */
export function mayUseTeamStore(root: string): boolean {
  if (process.env.KEEL_STORE_URL?.trim()) return process.env.KEEL_STORE_URL.trim() !== "sqlite";
  const path = join(root, CONFIG_FILE);
  try {
    return existsSync(path) && /^store:\s*["']?postgres/m.test(readFileSync(path, "utf8"));
  } catch {
    return false; // unreadable: loadConfig reports it, at the file, when the command reads its configuration
  }
}
