// In team mode a gate may have run on another machine: its evidence was forwarded into the team store
// (core/audit/forward.ts). On a clean tree, whose commit is the same everywhere, that evidence counts here as this
// checkout's own does; the newest run of the gate on the commit decides, whichever machine ran it. Uncommitted
// changes are one machine's own, so a dirty tree is judged by this checkout's evidence alone.
// @req TEAM-13
import type { GateKey } from "../../store/coordination.js";
import { coordinationStore } from "../../store/select.js";
import { teamStoreUrl } from "../../store/team-url.js";
import type { TreeState } from "../../workspace/git-tree.js";
import { type Evidence, fromRow } from "./evidence.js";
import type { GateContext } from "./gates.js";

/** For each gate, its newest evidence on the tree's commit from the team store, or null (not in team mode: all null). */
export async function teamEvidenceOnTree(
  ctx: Pick<GateContext, "root" | "config">,
  gates: readonly GateKey[],
  tree: TreeState,
): Promise<Array<Evidence | null>> {
  const none = gates.map(() => null);
  if (gates.length === 0 || tree.dirty || tree.commit === null || teamStoreUrl(ctx.config) === null)
    return none;
  const store = await coordinationStore(ctx.root, ctx.config);
  return (await store.evidenceOnCommit(gates, tree.commit)).map((row) => (row ? fromRow(row) : null));
}

/** The newer of two runs of one gate on one tree (either may be missing). */
export function newerRun(a: Evidence | null, b: Evidence | null): Evidence | null {
  if (a === null || b === null) return a ?? b;
  return Date.parse(b.startedAt) > Date.parse(a.startedAt) ? b : a;
}
