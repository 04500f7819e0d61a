// The REST API of a real `keel serve`: reads answer exactly what `keel … --json` prints (one core function builds
// both); writes run the core as the caller and, when refused (claim store, backpressure, role, policy, bad
// input), answer a precise status and change nothing: not the task's checkbox, not its claim, not a change.
// Every answer is also checked against GET /openapi.json.
// @verifies SRF-10
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Claims } from "../src/store/sqlite/claims.js";
import { StateDb } from "../src/store/state-db.js";
import { jsonOut, keel, keelWith } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { type ReplyChecker, startRestServers } from "./support/openapi.js";
import { httpRequest, type Reply, type Served, startServe, withoutIndex } from "./support/serve.js";

const project = tempProjects("keel-rest-");

const TASKS = `## 1. Refunds
- [ ] 1.1 Make refunds idempotent
  - covers: PAY-1
- [ ] 1.2 Write the docs
- [ ] 1.3 Prove refunds
  - verify: \`test -f refunds.ok\`
- [ ] 1.4 Announce refunds
`;

let root: string;
let human: Served;
let agent: Served;
let checker: ReplyChecker;

/** A request whose answer must be documented and valid against the document. */
function call(...args: Parameters<ReplyChecker["send"]>): Promise<Reply> {
  return checker.send(...args);
}

/** What must not move when a write is refused: the tasks file, the task's claim and notes, the change folders. */
function state(task: string) {
  const db = StateDb.open(root);
  try {
    return {
      tasks: readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8"),
      claim: new Claims(db, root).get(task, new Date()),
      notes: new Claims(db, root).notes(task),
      changes: readdirSync(join(root, "keel"), { recursive: true }).map(String).sort(),
    };
  } finally {
    db.close();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: audit events from --json output
function auditActions(): any[] {
  return jsonOut(keel(root, "audit", "log", "--json")).events.map((e: { action: string }) => e.action);
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  });
  ({ human, agent, checker } = await startRestServers(root));
});

afterAll(async () => {
  expect(await human?.stop()).toBe(0);
  expect(await agent?.stop()).toBe(0);
});

describe("REST reads are the CLI's --json answers", () => {
  it("status, lists, requirement, search, tasks, changes, drift and coverage", async () => {
    expect(
      keelWith({ KEEL_ACTOR: "agent:codex-7" }, root, "change", "new", "tidy-receipts", "--modify", "PAY-2")
        .code,
    ).toBe(0);
    const pairs: Array<[string, string[]]> = [
      ["/api/status", ["status"]],
      ["/api/specs", ["list", "specs"]],
      ["/api/requirements", ["list", "requirements"]],
      ["/api/search?q=refund&limit=5", ["search", "refund", "--limit", "5"]],
      ["/api/tasks", ["tasks", "list"]],
      ["/api/tasks/ready", ["tasks", "ready"]],
      ["/api/tasks/payments%2F1.2", ["tasks", "show", "payments/1.2"]],
      ["/api/changes", ["change", "list"]],
      ["/api/changes?all=true", ["change", "list", "--all"]],
      ["/api/changes/tidy-receipts", ["change", "show", "tidy-receipts"]],
      ["/api/drift", ["drift"]],
      ["/api/coverage", ["coverage"]],
    ];
    for (const [path, args] of pairs) {
      const r = await call(human, "GET", path);
      expect(r.status, path).toBe(200);
      expect(withoutIndex(r.json), path).toEqual(withoutIndex(jsonOut(keel(root, "--json", ...args))));
    }
    const { trace, ...shown } = (await call(human, "GET", "/api/requirements/PAY-1")).json;
    expect(withoutIndex(shown)).toEqual(withoutIndex(jsonOut(keel(root, "--json", "show", "PAY-1"))));
    expect(trace).toEqual(jsonOut(keel(root, "--json", "trace", "PAY-1")));
  });
});

describe("refused writes change nothing", () => {
  it("a task another actor holds: claim, heartbeat, release, done, block with its or a wrong token", async () => {
    const claimed = keelWith(
      { KEEL_ACTOR: "agent:codex-7" },
      root,
      "--json",
      "tasks",
      "claim",
      "payments/1.1",
    );
    const held = jsonOut(claimed).claim.token as number;
    const before = state("payments/1.1");
    expect(before.claim).toMatchObject({ status: "claimed", holder: "agent:codex-7", token: held });
    const refusals: Array<[string, unknown, number, string]> = [
      ["claim", {}, 409, "claim-held"],
      ["heartbeat", { token: held + 1 }, 409, "claim-stale-token"],
      ["release", { token: held + 1 }, 409, "claim-stale-token"],
      ["done", { token: held + 1 }, 409, "claim-stale-token"],
      ["block", { token: held + 1, reason: "mine now" }, 409, "claim-stale-token"],
      ["done", { token: "one" }, 400, "invalid_request"],
      ["done", "{token: 1", 400, "invalid_json"],
      ["heartbeat", { token: held, ttl: "forever" }, 400, "invalid_request"],
      ["heartbeat", { token: held, ttl: "0s" }, 400, "claim-bad-ttl"],
    ];
    for (const [op, body, status, code] of refusals) {
      const r = await call(agent, "POST", `/api/tasks/payments%2F1.1/${op}`, body);
      expect([r.status, r.json.error.code], `${op} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(state("payments/1.1"), `${op} ${JSON.stringify(body)}`).toEqual(before);
    }
  });

  it("done while the task's gates do not pass: 409, the checkbox and the claim stay; an agent cannot override", async () => {
    const claim = await call(agent, "POST", "/api/tasks/payments%2F1.3/claim", { ttl: "30m" });
    const token = claim.json.result.token as number;
    const before = state("payments/1.3");
    const held = await call(agent, "POST", "/api/tasks/payments%2F1.3/done", { token });
    expect(held.status).toBe(409);
    expect(held.json.error.code).toBe("gates-not-passing");
    expect(held.json.error.message).toContain("task payments/1.3 is not done");
    expect(state("payments/1.3")).toEqual(before);

    const override = await call(agent, "POST", "/api/tasks/payments%2F1.3/done", {
      token,
      override: { reason: "the gate is flaky" },
    });
    expect(override.status).toBe(403);
    expect(override.json.error.message).toMatch(/^refused by rule override-human-only/);
    expect(state("payments/1.3")).toEqual(before);
    expect(auditActions()).toContain("task.done.override.refused");
    expect(
      (await call(agent, "POST", "/api/tasks/payments%2F1.3/done", { token, override: {} })).status,
    ).toBe(400);
    expect(state("payments/1.3")).toEqual(before);

    // A human may override, with the reason; the override is audited and the checkbox is set.
    const overridden = await call(human, "POST", "/api/tasks/payments%2F1.3/done", {
      token,
      override: { reason: "verified by hand on staging" },
    });
    expect(overridden.status, overridden.text).toBe(200);
    expect(overridden.json).toMatchObject({
      result: { status: "done" },
      overridden: true,
      gates: { ok: false },
    });
    expect(state("payments/1.3").tasks).toContain("- [x] 1.3 Prove refunds");
    expect(auditActions()).toContain("task.done.override");
  });

  it("an agent cannot approve: 403, audited, the change untouched; a human reviewer can", async () => {
    const proposed = await call(agent, "POST", "/api/changes", {
      name: "refund limits",
      capabilities: ["payments"],
    });
    expect(proposed.status).toBe(201);
    const meta = join(root, "keel/changes/refund-limits/change.yaml");
    const before = readFileSync(meta, "utf8");
    const refused = await call(agent, "POST", "/api/changes/refund-limits/approve", { reason: "ship it" });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("refused");
    expect(readFileSync(meta, "utf8")).toBe(before);
    expect(auditActions()).toContain("change.approve.refused");

    const approved = await call(human, "POST", "/api/changes/refund-limits/approve", {});
    expect(approved.status).toBe(200);
    expect(approved.json.approvals).toEqual([{ by: "human:alice", at: expect.any(String) }]);
    expect(readFileSync(meta, "utf8")).toMatch(/status: approved/);
  });

  it("proposes a change with its content, checked by the change rules first", async () => {
    const r = await call(agent, "POST", "/api/changes", {
      name: "refund reasons",
      proposal: "## Why\nRefunds need a reason for the ledger.\n\n## What Changes\n- Add PAY-7.\n",
      deltas: [
        {
          capability: "payments",
          markdown:
            "## ADDED Requirements\n\n### Requirement: Refund reasons {#PAY-7}\nThe system SHALL record a reason with every refund.\n\n#### Scenario: A refund\n- **WHEN** a refund is made\n- **THEN** its reason is recorded\n",
        },
      ],
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    // Passed, with what the rules had to say below an error.
    expect(r.json.change).toBe("refund-reasons");
    expect(r.json.warnings.map((w: { rule: string }) => w.rule)).toEqual(["openspec/proposal-why-too-short"]);
    expect(readFileSync(join(root, "keel/changes/refund-reasons/specs/payments/spec.md"), "utf8")).toContain(
      "### Requirement: Refund reasons {#PAY-7}",
    );
    expect(readFileSync(join(root, "keel/changes/refund-reasons/proposal.md"), "utf8")).toContain(
      "Refunds need a reason for the ledger.",
    );
  });

  it("a proposal that is refused writes no folder", async () => {
    const before = state("payments/1.2").changes;
    const cases: Array<[unknown, number, string | RegExp]> = [
      [{ name: "refund limits" }, 409, 'change "refund-limits" already exists'],
      [{ name: "x", modify: ["NOPE-1"] }, 400, /^--modify NOPE-1: no living requirement/],
      [{ name: "bad", capabilities: ["../escape"] }, 400, '"../escape" is not a capability name'],
      [{ name: "!!!" }, 400, '"!!!" gives an empty change ID'],
      [{ name: "y", why: "text\n## Heading\n" }, 400, "--why may not contain Markdown headings"],
      [{ name: 5 }, 400, /^body\.name: /],
      [
        {
          name: "bad delta",
          deltas: [
            { capability: "payments", markdown: "## ADDED Requirements\n\n### Requirement: No text\n" },
          ],
        },
        400,
        /^the change content has \d+ error\(s\), nothing was written:\nkeel\/changes\/bad-delta\/specs\/payments\/spec\.md:3:/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const r = await call(human, "POST", "/api/changes", body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      if (typeof message === "string") expect(r.json.error.message).toBe(message);
      else expect(r.json.error.message).toMatch(message);
    }
    expect(state("payments/1.2").changes).toEqual(before);
  });
});

describe("bad input", () => {
  it("malformed JSON, schema failures naming the field, a body not JSON, unknown routes, wrong methods", async () => {
    const before = state("payments/1.2");
    const malformed = await call(human, "POST", "/api/tasks/payments%2F1.2/claim", '{"ttl": "5m",}');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("invalid_json");
    const wrongType = await call(human, "POST", "/api/tasks/payments%2F1.2/heartbeat", { token: -3 });
    expect(wrongType.json.error).toMatchObject({ code: "invalid_request" });
    expect(wrongType.json.error.message).toMatch(/^body\.token: /);
    const unknownField = await call(human, "POST", "/api/tasks/payments%2F1.2/claim", { tll: "5m" });
    expect(unknownField.json.error.message).toMatch(/^body: .*"tll"/);
    const notObject = await call(human, "POST", "/api/tasks/payments%2F1.2/claim", "[]");
    expect(notObject.status).toBe(400);
    const form = await call(human, "POST", "/api/tasks/payments%2F1.2/claim", "ttl=5m", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect([form.status, form.json.error.code]).toEqual([415, "unsupported_media_type"]);
    expect(state("payments/1.2")).toEqual(before);

    const unknown = await httpRequest(human.port, "GET", "/api/tasks/payments%2F1.2/nothing");
    expect([unknown.status, unknown.json.error.code]).toEqual([404, "not_found"]);
    const wrong = await httpRequest(human.port, "GET", "/api/tasks/payments%2F1.2/claim");
    expect([wrong.status, wrong.json.error.code, wrong.headers.allow]).toEqual([
      405,
      "method_not_allowed",
      "POST",
    ]);
    const put = await httpRequest(human.port, "PUT", "/api/changes");
    expect([put.status, put.headers.allow]).toEqual([405, "GET, POST"]);
  });

  it("a body over 1 MiB is refused with 413, by its Content-Length or as it arrives, and changes nothing", async () => {
    const before = state("payments/1.2");
    const big = JSON.stringify({ text: "n".repeat(1024 * 1024 + 10) });
    const declared = await call(human, "POST", "/api/tasks/payments%2F1.2/notes", big);
    expect([declared.status, declared.json.error.code]).toEqual([413, "body_too_large"]);
    const chunked = await call(human, "POST", "/api/tasks/payments%2F1.2/notes", big, {
      "transfer-encoding": "chunked",
    });
    expect([chunked.status, chunked.json.error.code]).toEqual([413, "body_too_large"]);
    expect(state("payments/1.2")).toEqual(before);
    // The same note under the cap is taken: the refusal was the size, nothing else.
    const small = await call(human, "POST", "/api/tasks/payments%2F1.2/notes", { text: "n".repeat(4000) });
    expect(small.status).toBe(200);
    expect(state("payments/1.2").notes.map((n) => n.text.length)).toEqual([4000]);
  });
});

describe("as an authenticated caller (keel serve --auth)", () => {
  let authed: Served;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  function mint(role: string, name: string): string {
    return jsonOut(
      keel(root, "--json", "token", "create", "--role", role, "--name", name, "--as", "human:alice"),
    ).token as string;
  }

  beforeAll(async () => {
    authed = await startServe(root, ["--auth"]);
  });
  afterAll(async () => {
    expect(await authed?.stop()).toBe(0);
  });

  it("acts as the token's actor, with its role: read-only writes nothing, an agent cannot approve", async () => {
    const read = mint("read", "viewer");
    const bot = mint("agent", "bot");
    const reviewer = mint("reviewer", "rev");

    const none = await call(authed, "GET", "/api/tasks");
    expect([none.status, none.json.error.code]).toEqual([401, "token_missing"]);
    expect((await call(authed, "GET", "/api/tasks", undefined, bearer(read))).status).toBe(200);

    const before = state("payments/1.4");
    const readOnly = await call(authed, "POST", "/api/tasks/payments%2F1.4/claim", {}, bearer(read));
    expect(readOnly.status).toBe(403);
    expect(readOnly.json.error.message).toContain("read-only");
    const proposal = await call(authed, "POST", "/api/changes", { name: "viewer idea" }, bearer(read));
    expect(proposal.status).toBe(403);
    expect(state("payments/1.4")).toEqual(before);

    const claim = await call(authed, "POST", "/api/tasks/payments%2F1.4/claim", {}, bearer(bot));
    expect(claim.json.result).toMatchObject({ taskId: "payments/1.4", holder: "agent:bot" });

    const proposed = await call(authed, "POST", "/api/changes", { name: "bot idea" }, bearer(bot));
    expect([proposed.status, proposed.json.change]).toEqual([201, "bot-idea"]);
    const meta = join(root, "keel/changes/bot-idea/change.yaml");
    const unapproved = readFileSync(meta, "utf8");
    const byBot = await call(authed, "POST", "/api/changes/bot-idea/approve", {}, bearer(bot));
    expect(byBot.status).toBe(403);
    expect(readFileSync(meta, "utf8")).toBe(unapproved);
    const byReviewer = await call(authed, "POST", "/api/changes/bot-idea/approve", {}, bearer(reviewer));
    expect(byReviewer.status, byReviewer.text).toBe(200);
    expect(byReviewer.json.approvals.map((a: { by: string }) => a.by)).toEqual(["human:rev"]);
  });
});
