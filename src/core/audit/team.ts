// `keel audit verify` in team mode: the team store's one chain, walked from its first event. It has no segment in
// git to mark its end (every server appends to it), so events cut from its end are not caught here; PostgreSQL's
// own backups and roles guard that.
// @req TEAM-4
import { type VerifyResult, walkChain } from "../../store/audit-chain.js";
import { coordinationStore } from "../../store/select.js";
import { teamStoreUrl } from "../../store/team-url.js";
import type { KeelConfig } from "../../workspace/config.js";

export interface TeamAuditReport extends VerifyResult {
  where: string;
}

/** The team store's chain verified, or null when the project uses the embedded store. */
export async function verifyTeamAudit(root: string, config: KeelConfig): Promise<TeamAuditReport | null> {
  if (teamStoreUrl(config) === null) return null;
  const store = await coordinationStore(root, config);
  return { where: store.where, ...walkChain(await store.chain(), null) };
}
