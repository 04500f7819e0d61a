// Each subcommand of `keel tasks`, `store`, `token` and `run` parses with its own declared flags: a flag of another
// subcommand is refused by the parser (exit 2) with the synopsis of the subcommand that was named.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keel } from "./support/cli.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "keel-subcommand-flags-"));
  expect(keel(root, "init").code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function refused(args: string[], flag: string, usage: string): void {
  const r = keel(root, ...args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(`'${flag}'`);
  expect(r.stderr).toContain(`usage: ${usage}`);
}

describe("flags per subcommand", () => {
  it("tasks: --format belongs to graph, --override to done, --token to the holder's subcommands", () => {
    refused(["tasks", "list", "--format", "dot"], "--format", "keel tasks list");
    expect(keel(root, "tasks", "graph", "--format", "dot").code).toBe(0);
    refused(["tasks", "release", "x/1", "--token", "1", "--override"], "--override", "keel tasks release");
    refused(["tasks", "claim", "x/1", "--token", "1"], "--token", "keel tasks claim");
    // A check the parser cannot make stays the subcommand's own.
    const bare = keel(root, "tasks", "done", "x/1", "--token", "1", "--override");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("--override needs --reason");
  });

  it("store: --from belongs to copy, --store to repair, --yes to repair and reset", () => {
    refused(["store", "repair", "--from", "sqlite"], "--from", "keel store repair");
    refused(["store", "reset", "--store", "abcdef12"], "--store", "keel store reset");
    refused(["store", "status", "--yes"], "--yes", "keel store status");
    expect(keel(root, "store", "reset").code).toBe(0);
  });

  it("token: --role belongs to create", () => {
    refused(["token", "list", "--role", "agent"], "--role", "keel token list");
    refused(["token", "revoke", "ci", "--expires", "never"], "--expires", "keel token revoke");
  });

  it("run: status and review refuse the loop's flags; the loop refuses review's", () => {
    refused(["run", "status", "--workers", "2"], "--workers", "keel run status");
    refused(["run", "review", "--sandbox", "none"], "--sandbox", "keel run review");
    refused(["run", "--note", "x"], "--note", "keel run [--workers");
  });

  it("no subcommand, or an unknown one, is a usage error listing every subcommand's synopsis", () => {
    for (const [command, subs] of [
      ["tasks", ["list", "graph", "claim", "note"]],
      ["store", ["status", "copy", "repair", "reset"]],
      ["token", ["create", "list", "revoke"]],
    ] as const) {
      for (const args of [[command], [command, "constructor"]]) {
        const r = keel(root, ...args);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
        for (const sub of subs) expect(r.stderr).toContain(`keel ${command} ${sub}`);
      }
    }
  });
});
