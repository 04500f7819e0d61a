// In team mode the tokens live in PostgreSQL (store/postgres/tokens.ts), yet every request's token is checked at
// once. A team server keeps them in memory: read whole at start, then kept up by the `token.*` events of every
// server as its live feed reads them. A revocation applies from its event, before anything is read back, and
// stays applied over a read that started earlier; a token this server has not seen yet (made a moment ago on
// another machine) is read back before its request is judged (Gatekeeper.know), so a new token works at once.
// @req SRF-11, TEAM-2
import type { AuditEvent } from "../store/audit-chain.js";
import type { CoordinationStore, TokenRow } from "../store/coordination.js";
import { coalesced } from "../workspace/coalesce.js";

export class TokenMirror {
  #rows = new Map<string, TokenRow>();
  /** Revocations told by events, applied over every read (one that started before the revocation committed). */
  readonly #revoked = new Map<string, string>();
  /**
   * Reads every token again; calls made while a read runs share one read queued after it, which therefore sees
   * what they were waiting for.
   */
  readonly reload = coalesced(() => this.#read());

  private constructor(private readonly store: CoordinationStore) {}

  static async load(store: CoordinationStore): Promise<TokenMirror> {
    const mirror = new TokenMirror(store);
    await mirror.reload();
    return mirror;
  }

  lookup(id: string): TokenRow | undefined {
    return this.#rows.get(id);
  }

  /** An audit event from any server: a token's revocation applies now; a new token is read back. */
  apply(e: Pick<AuditEvent, "action" | "target" | "at">): void {
    if (!e.action.startsWith("token.") || !e.target.startsWith("token:")) return;
    const id = e.target.slice("token:".length);
    if (e.action === "token.revoke") {
      this.#revoked.set(id, e.at);
      const row = this.#rows.get(id);
      if (row) this.#rows.set(id, { ...row, revoked_at: row.revoked_at ?? e.at });
    }
    void this.reload().catch(() => {}); // the store unreachable: the next token event, or a miss, reads again
  }

  async #read(): Promise<void> {
    const rows = new Map<string, TokenRow>();
    for (const row of await this.store.tokens()) {
      const revokedAt = row.revoked_at ?? this.#revoked.get(row.id) ?? null;
      rows.set(row.id, { ...row, revoked_at: revokedAt });
    }
    this.#rows = rows;
  }
}
