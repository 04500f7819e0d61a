// Which coordination store a project uses: KEEL_STORE_URL, else keel.yaml `store:`, else the embedded one. A
// process keeps one store per project (one pool of connections per database), shared by every caller.
// @req TEAM-1, TEAM-2
import type { KeelConfig } from "../workspace/config.js";
import type { CoordinationStore } from "./coordination.js";
import { SqliteStore } from "./sqlite/coordination.js";
import { teamStoreUrl } from "./team-url.js";

const kept = new Map<string, Promise<CoordinationStore>>();

/** The project's store, opened once per process (a team store is connected and its schema checked first). */
export function coordinationStore(
  root: string,
  config: Pick<KeelConfig, "store">,
): Promise<CoordinationStore> {
  const url = teamStoreUrl(config);
  const key = `${root}\0${url ?? ""}`;
  let store = kept.get(key);
  if (!store) {
    store = url === null ? Promise.resolve(new SqliteStore(root)) : openTeam(url);
    // A store that failed to open is not kept: the next call tries again (PostgreSQL may be back).
    store.catch(() => kept.delete(key));
    kept.set(key, store);
  }
  return store;
}

async function openTeam(url: string): Promise<CoordinationStore> {
  const { PgStore } = await import("./postgres/store.js");
  return PgStore.open(url);
}

/** Closes every store this process opened (a server stopping; a test between projects). */
export async function closeStores(): Promise<void> {
  const all = [...kept.values()];
  kept.clear();
  await Promise.all(all.map((s) => s.then((x) => x.close()).catch(() => {})));
}
