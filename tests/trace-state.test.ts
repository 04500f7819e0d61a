// @verifies TRC-3, TRC-4
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../src/core/project.js";
import { type Ack, linkIdentity, readAcks, writeAcks } from "../src/core/trace/acks.js";
import { linkTargets } from "../src/core/trace/requirements.js";
import { type JudgedLink, judgeLinks } from "../src/core/trace/state.js";
import type { RawLink } from "../src/core/trace/types.js";
import { tempProjects, writeFile } from "./support/files.js";
import { commitAll, git, gitInit } from "./support/git.js";

const project = tempProjects("keel-trace-state-");

function spec(refundRule: string, status = "approved"): string {
  return [
    "# Payments",
    "",
    "## Purpose",
    "Refunds for paid invoices.",
    "",
    "## Requirements",
    "",
    "### Requirement: Refunds are idempotent {#PAY-1}",
    `> status: ${status}`,
    `The system SHALL ${refundRule}.`,
    "",
    "#### Scenario: Repeat",
    "- **WHEN** a refund key is reused",
    "- **THEN** no money moves",
    "",
  ].join("\n");
}

function repo(): string {
  const root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/pay/spec.md": spec("process at most one refund per key"),
    "src/refund.ts": "export function refund() {}\n// @req PAY-1\n",
  });
  gitInit(root);
  commitAll(root, "refunds");
  return root;
}

const LINK: RawLink = {
  kind: "implements",
  source: "annotation",
  target: "PAY-1",
  targetType: "req",
  file: "src/refund.ts",
  line: 2,
  col: 4,
};

function judge(root: string, links: RawLink[] = [LINK], acks: Ack[] = readAcks(root)): JudgedLink[] {
  const targets = linkTargets(loadProject(root, { explicitRoot: true }));
  return judgeLinks({ root, links, ...targets, tasks: new Set(["pay/1.1"]), acks });
}

describe("link states from git history", () => {
  it("is ok while the requirement is as it was when the line was committed", () => {
    const root = repo();
    const [link] = judge(root);
    expect(link?.state).toBe("ok");
    expect(link?.commit).toBe(git(root, "rev-parse", "HEAD").trim());
    expect(link?.baseline).toBe(link?.current);
  });

  it("turns suspect when the requirement changes, in the working tree or committed", () => {
    const root = repo();
    const before = judge(root)[0]?.current;
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per refund key and day"));
    const dirty = judge(root)[0];
    expect(dirty?.state).toBe("suspect");
    expect(dirty?.baseline).toBe(before);
    expect(dirty?.current).not.toBe(before);
    commitAll(root, "tighten PAY-1");
    expect(judge(root)[0]?.state).toBe("suspect");
  });

  it("is cleared by an acknowledgement at the current fingerprint, and suspect again after the next edit", () => {
    const root = repo();
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per refund key and day"));
    commitAll(root, "tighten PAY-1");
    const suspect = judge(root)[0] as JudgedLink;
    writeAcks(root, readAcks(root), [
      {
        link: linkIdentity(suspect),
        fingerprint: suspect.current as string,
        by: "human:alice",
        at: "2026-11-21T12:00:00.000Z",
        reason: "the handler already keys refunds by day",
      },
    ]);
    expect(readFileSync(join(root, "keel/trace-acks.yaml"), "utf8")).toContain("src/refund.ts implements");
    const acked = judge(root)[0];
    expect(acked?.state).toBe("ok");
    expect(acked?.reason).toContain("human:alice");
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per refund key and week"));
    expect(judge(root)[0]?.state).toBe("suspect");
  });

  it("rewriting the linked line after the edit re-baselines it; an uncommitted line is made now", () => {
    const root = repo();
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per refund key and day"));
    commitAll(root, "tighten PAY-1");
    writeFile(root, "src/refund.ts", "export function refund() {}\n// @req PAY-1 (per key and day)\n");
    const uncommitted = judge(root)[0];
    expect(uncommitted?.state).toBe("ok");
    expect(uncommitted?.commit).toBeNull();
    commitAll(root, "review refund against PAY-1");
    expect(judge(root)[0]?.state).toBe("ok");
  });

  it("a link written before its requirement existed is suspect", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/pay/spec.md": "# Payments\n\n## Purpose\nRefunds.\n\n## Requirements\n",
      "src/refund.ts": "export function refund() {}\n// @req PAY-1\n",
    });
    gitInit(root);
    commitAll(root, "code first");
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per key"));
    commitAll(root, "then the requirement");
    const link = judge(root)[0];
    expect(link?.state).toBe("suspect");
    expect(link?.reason).toContain("did not exist");
  });

  it("dangles on an unknown or deprecated ID; task links are checked against the task list", () => {
    const root = repo();
    const links: RawLink[] = [
      { ...LINK, target: "PAY-9" },
      {
        ...LINK,
        kind: "commit",
        source: "trailer",
        target: "pay/1.1",
        targetType: "task",
        file: "commit:abc",
        line: 0,
      },
      {
        ...LINK,
        kind: "commit",
        source: "trailer",
        target: "T404",
        targetType: "task",
        file: "commit:abc",
        line: 0,
      },
    ];
    expect(judge(root, links).map((l) => l.state)).toEqual(["dangling", "ok", "dangling"]);
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per key", "deprecated"));
    expect(judge(root)[0]?.state).toBe("dangling");
  });

  it("a commit trailer's baseline is the requirement at that commit", () => {
    const root = repo();
    const first = git(root, "rev-parse", "HEAD").trim();
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per refund key and day"));
    const second = commitAll(root, "tighten PAY-1");
    const trailer = (sha: string): RawLink => ({
      ...LINK,
      kind: "commit",
      source: "trailer",
      file: `commit:${sha}`,
      line: 0,
    });
    expect(judge(root, [trailer(first), trailer(second)]).map((l) => l.state)).toEqual(["suspect", "ok"]);
  });

  it("an otherwise sound link whose file changed after the last evidence is stale", () => {
    const root = repo();
    const targets = linkTargets(loadProject(root, { explicitRoot: true }));
    const [link] = judgeLinks({
      root,
      links: [LINK],
      ...targets,
      tasks: new Set(),
      acks: [],
      changedSinceEvidence: (id) => (id === "PAY-1" ? new Set(["src/refund.ts"]) : null),
    });
    expect(link?.state).toBe("stale");
    expect(link?.reason).toContain("keel verify --req PAY-1");
  });

  it("refuses a malformed acks file with its line", () => {
    const root = repo();
    writeFile(
      root,
      "keel/trace-acks.yaml",
      "acks:\n  - link: PAY-1 src/refund.ts implements\n    fingerprint: abc\n",
    );
    expect(() => readAcks(root)).toThrow(/trace-acks\.yaml:2: ack needs a non-empty `by`/);
  });
});
