// Traces asked for at once share the work (a server's many clients), yet none answers with a trace that began
// reading before the question: callers arriving during a trace get the next one, which they all share.
// @verifies TRC-11
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { traceProject } from "../src/core/trace/project.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { commitAll, gitInit } from "./support/git.js";

const project = tempProjects("keel-trace-shared-");

function linksOf(report: Awaited<ReturnType<typeof traceProject>>["report"], id: string): string[] {
  return (report.requirements.find((r) => r.id === id)?.implementations ?? []).map((l) => l.file);
}

describe("traceProject shared by concurrent callers", () => {
  it("runs one trace for the callers who arrive while another runs, started after they asked", async () => {
    const root = project({
      ".gitignore": ".keel/\n",
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
      "src/refunds.ts": "// @req PAY-1\nexport const refund = 1;\n",
    });
    gitInit(root);
    commitAll(root, "payments");

    const first = traceProject(root, true);
    // Written after the first trace began: only traces that start later can see it.
    writeFileSync(join(root, "src/receipts.ts"), "// @req PAY-2\nexport const receipt = 1;\n");
    const second = traceProject(root, true);
    const third = traceProject(root, true);
    const [a, b, c] = await Promise.all([first, second, third]);
    expect(b).toBe(c);
    expect(a).not.toBe(b);
    expect(linksOf(b.report, "PAY-2")).toEqual(["src/receipts.ts"]);
    expect(linksOf(b.report, "PAY-1")).toEqual(["src/refunds.ts"]);

    // Once nothing runs, a new caller gets a trace of its own.
    const later = await traceProject(root, true);
    expect(later).not.toBe(b);
    expect(linksOf(later.report, "PAY-2")).toEqual(["src/receipts.ts"]);
  });
});
