// The `keel` binary is a CommonJS launcher (dist/keel.cjs, src/cli/bin.ts): it answers the version and the top-level
// help itself, because Node starts a CommonJS file sooner than an ES module, and hands every other command line to
// the CLI proper (dist/keel.mjs). Either way a user sees the same output and exit code.
// @verifies CLI-7
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, keel } from "./support/cli.js";
import { writeFiles } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";

const BIN = join(CLI, "..", "keel.cjs");
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "keel-launcher-"));
  writeFiles(root, {
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function bin(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: cliEnv(), encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the keel binary", () => {
  it("is the package's bin", async () => {
    const pkg = (await import("../package.json", { with: { type: "json" } })).default as {
      bin: { keel: string };
    };
    expect(join(CLI, "..", "..", pkg.bin.keel)).toBe(BIN);
  });

  it("answers the version and the help exactly as the CLI proper does, exit codes too", () => {
    const forms = [
      [],
      ["help"],
      ["--help"],
      ["-h"],
      ["--version"],
      ["-v"],
      ["--json", "--version"],
      ["--json"],
    ];
    for (const args of forms) {
      expect(bin(...args), args.join(" ") || "(no arguments)").toEqual(keel(root, ...args));
    }
    expect(bin("--version").stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(bin().code).toBe(2);
  });

  it("hands every other command line to the CLI proper, with its arguments, output and exit code", () => {
    for (const args of [
      ["--json", "tasks", "list"],
      ["help", "change", "new"],
      ["tasks", "note", "payments/1.1", "--", "--version"],
      ["show", "PAY-404"],
      ["no-such-command"],
    ]) {
      expect(bin(...args), args.join(" ")).toEqual(keel(root, ...args));
    }
  });

  it("ends quietly with 141 when the reader of its help closes the pipe", () => {
    const r = spawnSync(
      "bash",
      ["-c", `set -o pipefail; '${process.execPath}' '${BIN}' help | head -c 1 >/dev/null`],
      {
        env: cliEnv(),
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect([0, 141]).toContain(r.status);
  });
});
