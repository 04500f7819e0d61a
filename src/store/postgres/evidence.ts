// Gate evidence in the team store: every checkout's rows, forwarded once each (by their ID in the checkout's store)
// with the mark of how far each checkout was taken, and read back by gate and commit for the backpressure.
// @req TEAM-13
import type { PoolClient } from "pg";
import { forwardKey } from "../audit-chain.js";
import type { EvidenceRow, GateKey } from "../coordination.js";
import { EVIDENCE_FIELDS } from "../tables.js";

type Queryable = Pick<PoolClient, "query">;

const COLUMNS = EVIDENCE_FIELDS;

export async function forwardedEvidence(c: Queryable, origin: string): Promise<number> {
  const r = await c.query("SELECT value FROM keel_meta WHERE key = $1", [forwardKey(origin, "evidence")]);
  return r.rows.length === 0 ? 0 : Number(r.rows[0].value);
}

/** In the caller's transaction: the rows of `origin` past its mark, each once, and the mark moved. */
export async function forwardEvidence(
  c: Queryable,
  origin: string,
  rows: readonly EvidenceRow[],
): Promise<number> {
  const key = forwardKey(origin, "evidence");
  await c.query("INSERT INTO keel_meta (key, value) VALUES ($1, '0') ON CONFLICT (key) DO NOTHING", [key]);
  const mark = await c.query("SELECT value FROM keel_meta WHERE key = $1 FOR UPDATE", [key]);
  let taken = Number(mark.rows[0].value);
  const names = ["origin", "origin_id", ...COLUMNS];
  const insert = `INSERT INTO evidence (${names.join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")})
    ON CONFLICT (origin, origin_id) DO NOTHING`;
  for (const row of rows) {
    if (row.id <= taken) continue;
    await c.query(insert, [origin, row.id, ...COLUMNS.map((k) => row[k])]);
    taken = row.id;
  }
  await c.query("UPDATE keel_meta SET value = $2 WHERE key = $1", [key, String(taken)]);
  return taken;
}

export async function evidenceOnCommit(
  c: Queryable,
  gates: readonly GateKey[],
  commit: string,
): Promise<Array<EvidenceRow | null>> {
  const found: Array<EvidenceRow | null> = [];
  for (const g of gates) {
    const r = await c.query(
      `SELECT * FROM evidence WHERE gate = $1 AND command = $2 AND cwd = $3 AND commit_sha = $4 AND dirty = 0
       ORDER BY id DESC LIMIT 1`,
      [g.name, g.command, g.cwd, commit],
    );
    found.push((r.rows[0] as EvidenceRow | undefined) ?? null);
  }
  return found;
}
