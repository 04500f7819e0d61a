// What the web app's REST operations are exercised with in tests/openapi.test.ts: every documented operation
// must be called there, and every answer is checked against the document. Each area of the web app exercises
// its own operations (web-ops-<area>.ts) on the test's project and servers.
import type { ReplyChecker } from "./openapi.js";
import type { Reply, Served } from "./serve.js";

export interface WebOpsContext {
  /** The test project (keel/specs/payments with PAY-1…; tasks payments/1.1…1.3). */
  root: string;
  /** Single-user servers: `human` acts as human:alice, `agent` as agent:mcp. */
  human: Served;
  agent: Served;
  /** A request whose answer must be documented and valid against the document (body as JSON when an object). */
  call: (...args: Parameters<ReplyChecker["send"]>) => Promise<Reply>;
}
