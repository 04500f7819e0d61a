// GET /openapi.json of a real `keel serve`: a well-formed OpenAPI 3.1 document; every documented operation is
// exercised (its success and its refusals) and every answer is valid against the document's schema for its
// status; the routes the server serves are exactly the documented ones.
// @verifies SRF-10
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import {
  checkDocument,
  type Doc,
  METHODS,
  type ReplyChecker,
  startRestServers,
  templateMatches,
  templateOf,
} from "./support/openapi.js";
import { httpRequest, type Reply, type Served } from "./support/serve.js";
import { exerciseOversightOperations } from "./support/web-ops-oversight.js";
import { exerciseReviewOperations } from "./support/web-ops-review.js";
import { exerciseSpecsOperations } from "./support/web-ops-specs.js";
import { exerciseWorkOperations } from "./support/web-ops-work.js";

const project = tempProjects("keel-openapi-");

const TASKS = `## 1. Refunds
- [ ] 1.1 Make refunds idempotent
  - covers: PAY-1
- [ ] 1.2 Write the docs
- [ ] 1.3 Prove refunds
  - verify: \`test -f refunds.ok\`
`;

let root: string;
/** Acts as human:alice in single-user mode; `agent` acts as the default agent:mcp. */
let human: Served;
let agent: Served;
let doc: Doc;
let checker: ReplyChecker;

/** A request whose answer must be documented and valid against the document. */
function call(...args: Parameters<ReplyChecker["send"]>): Promise<Reply> {
  return checker.send(...args);
}

/** The status line and headers of a streaming answer; the stream is closed at once. */
function head(
  server: Served,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        method,
        path,
        headers: { host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: "", json: undefined });
        req.destroy();
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function token(r: Reply): number {
  expect(r.status, r.text).toBe(200);
  return r.json.result.token as number;
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  });
  ({ human, agent, doc, checker } = await startRestServers(root));
});

afterAll(async () => {
  expect(await human?.stop()).toBe(0);
  expect(await agent?.stop()).toBe(0);
});

describe("GET /openapi.json", () => {
  it("is a well-formed OpenAPI 3.1 document whose schemas all compile", () => {
    checkDocument(doc);
    expect(doc.openapi).toBe("3.1.0");
    // Every REST operation refuses with the shared error body.
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (!path.startsWith("/api/")) continue;
      for (const method of METHODS) {
        if (!item[method]) continue;
        expect(item[method].responses["500"].content["application/json"].schema, `${method} ${path}`).toEqual(
          {
            $ref: "#/components/schemas/Error",
          },
        );
      }
    }
  });

  it("serves the same document to every caller, and describes itself", async () => {
    const again = await call(agent, "GET", "/openapi.json");
    expect(again.json).toEqual(doc);
  });
});

describe("every documented operation, against the document", () => {
  it("reads: status, specs, requirements, search, tasks, changes, drift, coverage", async () => {
    for (const path of [
      "/api/status",
      "/api/specs",
      "/api/specs?capability=payments",
      "/api/requirements",
      "/api/requirements?status=approved",
      "/api/requirements/PAY-1",
      "/api/search?q=refund",
      "/api/search?q=refund&limit=1",
      "/api/tasks",
      "/api/tasks/ready",
      "/api/tasks/payments%2F1.1",
      "/api/tasks/1.2",
      "/api/changes",
      "/api/changes?all=true",
      "/api/drift",
      "/api/drift?failOn=warning",
      "/api/coverage",
    ]) {
      const r = await call(human, "GET", path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
    const shown = await call(human, "GET", "/api/requirements/PAY-1");
    expect(shown.json.item.id).toBe("PAY-1");
    expect(shown.json.trace.requirements.map((t: { id: string }) => t.id)).toEqual(["PAY-1"]);
    expect((await call(human, "GET", "/api/search?q=refund&limit=1")).json.results).toHaveLength(1);
  });

  it("read refusals: unknown IDs 404, bad parameters 400 naming the parameter", async () => {
    const cases: Array<[string, number, string | RegExp]> = [
      ["/api/requirements/NOPE-9", 404, 'no requirement "NOPE-9"'],
      ["/api/requirements/payments", 404, '"payments" is a spec, not a requirement'],
      ["/api/tasks/payments%2F9.9", 404, "unknown task: payments/9.9"],
      ["/api/changes/no-such-change", 404, 'no change "no-such-change"'],
      ["/api/changes/Not%20An%20ID", 400, /is not a change ID/],
      ["/api/search", 400, /^query\.q: /],
      ["/api/search?q=x&limit=0", 400, "query.limit: must be from 1 to 10000"],
      ["/api/search?q=x&limit=ten", 400, /^query\.limit: /],
      ["/api/specs?colour=red", 400, /^query: .*colour/],
      ["/api/changes?all=yes", 400, /^query\.all: /],
      ["/api/drift?failOn=never", 400, /^query\.failOn: /],
      ["/api/requirements/%E0%A4%A", 400, "path.id: bad URL encoding"],
    ];
    for (const [path, status, message] of cases) {
      const r = await call(human, "GET", path);
      expect(r.status, `${path}: ${r.text}`).toBe(status);
      if (typeof message === "string") expect(r.json.error.message, path).toBe(message);
      else expect(r.json.error.message, path).toMatch(message);
    }
  });

  it("task writes: claim, heartbeat, note, done, release, block, claim-next, with their refusals", async () => {
    const t1 = token(await call(human, "POST", "/api/tasks/payments%2F1.1/claim", { ttl: "10m" }));
    expect((await call(agent, "POST", "/api/tasks/payments%2F1.1/claim", {})).json.error.code).toBe(
      "claim-held",
    );
    expect((await call(human, "POST", "/api/tasks/payments%2F9.9/claim", {})).status).toBe(404);
    expect((await call(human, "POST", "/api/tasks/payments%2F1.1/claim", { ttl: "soon" })).status).toBe(400);

    const beat = await call(human, "POST", "/api/tasks/payments%2F1.1/heartbeat", { token: t1, ttl: "5m" });
    expect(beat.status).toBe(200);
    expect(beat.json.result.taskId).toBe("payments/1.1");
    expect((await call(human, "POST", "/api/tasks/payments%2F1.1/heartbeat", { token: t1 + 7 })).status).toBe(
      409,
    );
    expect((await call(human, "POST", "/api/tasks/payments%2F1.1/heartbeat", {})).json.error.message).toMatch(
      /^body\.token: /,
    );

    const note = await call(agent, "POST", "/api/tasks/payments%2F1.1/notes", {
      text: "look at PAY-1 first",
    });
    expect(note.json.result).toEqual({ note: "look at PAY-1 first" });
    expect((await call(agent, "POST", "/api/tasks/payments%2F1.1/notes", { text: "" })).status).toBe(400);

    const done = await call(human, "POST", "/api/tasks/payments%2F1.1/done", { token: t1 });
    expect(done.status).toBe(200);
    expect(done.json.result.status).toBe("done");
    expect(done.json.gates.ok).toBe(true);
    expect((await call(human, "POST", "/api/tasks/payments%2F1.1/release", { token: t1 })).status).toBe(409);
    expect(
      (await call(human, "POST", "/api/tasks/payments%2F1.1/block", { token: t1, reason: "x" })).status,
    ).toBe(409);

    const next = await call(human, "POST", "/api/tasks/claim-next", {});
    const key = next.json.result.taskId as string;
    expect(["payments/1.2", "payments/1.3"]).toContain(key);
    const enc = encodeURIComponent(key);
    const t2 = token(next);
    expect((await call(human, "POST", `/api/tasks/${enc}/release`, { token: t2 })).json.result.status).toBe(
      "released",
    );
    const t3 = token(await call(human, "POST", `/api/tasks/${enc}/claim`, {}));
    expect((await call(human, "POST", `/api/tasks/${enc}/block`, { token: t3 })).json.error.message).toMatch(
      /^body\.reason: /,
    );
    const blocked = await call(human, "POST", `/api/tasks/${enc}/block`, {
      token: t3,
      reason: "waiting on legal",
    });
    expect(blocked.json.result).toMatchObject({ status: "blocked", reason: "waiting on legal" });

    // 1.3 has a verify command that fails: done is held back (409) until its gates pass.
    const t4 = token(await call(human, "POST", "/api/tasks/payments%2F1.3/claim", {}));
    const held = await call(human, "POST", "/api/tasks/payments%2F1.3/done", { token: t4 });
    expect(held.status).toBe(409);
    expect(held.json.error.code).toBe("gates-not-passing");
    const refusedOverride = await call(agent, "POST", "/api/tasks/payments%2F1.3/done", {
      token: t4,
      override: { reason: "flaky" },
    });
    expect(refusedOverride.status).toBe(403);
    expect(refusedOverride.json.error).toMatchObject({ code: "refused" });
    expect(refusedOverride.json.error.message).toMatch(
      /^refused by rule override-human-only: agent:mcp is an agent/,
    );

    // Nothing is ready any more: claim-next answers null.
    const none = await call(agent, "POST", "/api/tasks/claim-next");
    expect(none.status).toBe(200);
    expect(none.json.result).toBeNull();
  });

  it("changes: propose, show, approve, with their refusals", async () => {
    const proposed = await call(agent, "POST", "/api/changes", {
      name: "Add receipts",
      why: "Customers ask for receipts.",
      capabilities: ["payments"],
      modify: ["PAY-2"],
    });
    expect(proposed.status).toBe(201);
    expect(proposed.json).toMatchObject({ change: "add-receipts", base: { payments: ["PAY-2"] } });
    expect((await call(human, "POST", "/api/changes", { name: "add receipts" })).status).toBe(409);
    expect((await call(human, "POST", "/api/changes", { name: "x", modify: ["NOPE-1"] })).status).toBe(400);
    expect((await call(human, "POST", "/api/changes", { why: "no name" })).json.error.message).toMatch(
      /^body\.name: /,
    );

    const shown = await call(human, "GET", "/api/changes/add-receipts");
    expect(shown.json).toMatchObject({ id: "add-receipts", status: "draft", author: "agent:mcp" });
    const listed = await call(human, "GET", "/api/changes");
    expect(listed.json.changes.map((c: { id: string }) => c.id)).toEqual(["add-receipts"]);

    const byAgent = await call(agent, "POST", "/api/changes/add-receipts/approve", {});
    expect(byAgent.status).toBe(403);
    expect(byAgent.json.error.code).toBe("refused");
    expect((await call(human, "POST", "/api/changes/no-such/approve", {})).status).toBe(404);
    const approved = await call(human, "POST", "/api/changes/add-receipts/approve", {
      reason: "looks right",
    });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({
      change: "add-receipts",
      status: "approved",
      previousStatus: "draft",
    });
    expect((await call(human, "POST", "/api/changes/add-receipts/approve", {})).status).toBe(400);
  });

  it("bad bodies: malformed JSON, a body that is not JSON, fields not in the schema, over 1 MiB", async () => {
    const malformed = await call(human, "POST", "/api/tasks/payments%2F1.2/claim", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("invalid_json");
    const text = await call(human, "POST", "/api/changes", "name=x", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    const extra = await call(human, "POST", "/api/changes", { name: "y", colour: "red" });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toMatch(/^body: .*colour/);
    const array = await call(human, "POST", "/api/tasks/claim-next", [1, 2]);
    expect(array.status).toBe(400);
    const big = checker.check(
      "POST",
      "/api/changes",
      await httpRequest(human.port, "POST", "/api/changes", {
        body: JSON.stringify({ name: "big", why: "a".repeat(2 * 1024 * 1024) }),
        headers: { "content-type": "application/json" },
      }),
    );
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("body_too_large");
  });

  it("the web app's session: asked, signed in (single-user: nothing to sign in to), signed out", async () => {
    const asked = await call(human, "GET", "/api/session");
    expect(asked.json).toMatchObject({ mode: "single-user", principal: { name: "alice", kind: "human" } });
    expect((await call(human, "POST", "/api/session", { token: "x" })).json.mode).toBe("single-user");
    expect((await call(human, "POST", "/api/session", "nope", { "content-type": "text/plain" })).status).toBe(
      415,
    );
    expect((await call(human, "DELETE", "/api/session")).json).toEqual({ version: 1, ok: true });
  });

  it("the web app's operations: specs, review, work and oversight (tests/support/web-ops-*.ts)", async () => {
    const ctx = { root, human, agent, call };
    await exerciseSpecsOperations(ctx);
    await exerciseReviewOperations(ctx);
    await exerciseWorkOperations(ctx);
    await exerciseOversightOperations(ctx);
  });

  it("events and MCP", async () => {
    const events = checker.check("GET", "/events", await head(human, "GET", "/events"));
    expect(events.status).toBe(200);
    expect(events.headers["content-type"]).toMatch(/^text\/event-stream/);

    const accept = { accept: "application/json, text/event-stream" };
    expect((await call(human, "POST", "/mcp", "{oops", accept)).status).toBe(400);
    expect((await call(human, "GET", "/mcp", undefined, accept)).status).toBe(400);
    expect((await call(human, "DELETE", "/mcp", undefined, accept)).status).toBe(400);
    const init = await httpRequest(human.port, "POST", "/mcp", {
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "openapi-test", version: "1" },
        },
      }),
      headers: { "content-type": "application/json", ...accept },
    });
    checker.check("POST", "/mcp", init);
    expect(init.status, init.text).toBe(200);
    const session = init.headers["mcp-session-id"];
    expect(typeof session).toBe("string");
    const withSession = {
      ...accept,
      "mcp-session-id": session as string,
      "mcp-protocol-version": "2025-06-18",
    };
    const stream = checker.check("GET", "/mcp", await head(human, "GET", "/mcp", withSession));
    expect(stream.status).toBe(200);
    expect((await call(human, "DELETE", "/mcp", undefined, withSession)).status).toBe(200);
  });

  it("exercised every documented operation, each with its success status", () => {
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      // The webhooks need a configured secret: tests/run/triggers.test.ts drives them against this document.
      if (path.startsWith("/hooks/")) continue;
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const key = `${method.toUpperCase()} ${path}`;
        const seen = checker.seen.get(key);
        expect(seen, `${key} was never called`).toBeDefined();
        const success = Object.keys(op.responses).filter((s) => /^2/.test(s) && s !== "202");
        for (const s of success) expect([...(seen ?? [])], `${key} never answered ${s}`).toContain(Number(s));
      }
    }
  });
});

describe("the routes served are the routes documented", () => {
  it("answers every undocumented method on a documented path with 405 and the documented methods", async () => {
    for (const path of Object.keys(doc.paths)) {
      const concrete = path.replace(/\{[^}]+\}/g, "x");
      // A literal path may also be an instance of a templated one (/api/tasks/ready of /api/tasks/{task}).
      const documented = [
        ...new Set(
          Object.entries<Doc>(doc.paths)
            .filter(([t]) => templateMatches(t, concrete))
            .flatMap(([, item]) => METHODS.filter((m) => item[m]).map((m) => m.toUpperCase())),
        ),
      ];
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !documented.includes(m))) {
        const r = await httpRequest(human.port, method, concrete);
        expect(r.status, `${method} ${concrete}`).toBe(405);
        checker.checkErrorBody(`${method} ${concrete}`, r);
        expect(r.json.error.code).toBe("method_not_allowed");
        expect(
          String(r.headers.allow)
            .split(",")
            .map((s) => s.trim())
            .sort(),
          `${method} ${concrete}`,
        ).toEqual([...documented].sort());
      }
    }
  });

  it("answers 404 for paths that are not documented", async () => {
    for (const path of [
      "/api",
      "/api/",
      "/api/nothing",
      "/api/tasks/a/b/claim",
      "/api/status/x",
      "/openapi.yaml",
    ]) {
      expect(templateOf(doc, path), path).toBeNull();
      const r = await httpRequest(human.port, "GET", path);
      expect(r.status, path).toBe(404);
      expect(r.json.error).toMatchObject({ code: "not_found", hint: "GET /openapi.json lists every route" });
    }
  });

  it("documents every route the dispatcher (http.ts) declares beside the REST table", () => {
    const source = readFileSync(join(import.meta.dirname, "..", "src", "server", "http.ts"), "utf8");
    const patterns = [...source.matchAll(/pattern: \/(\^.*?\$)\//g)].map((m) => new RegExp(m[1] as string));
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      const documented = Object.keys(doc.paths).some((p) => pattern.test(p.replace(/\{[^}]+\}/g, "x")));
      expect(documented, `${pattern} is served but not documented`).toBe(true);
    }
  });
});
