// Shared helpers for the change workflow tests: real temporary projects (git repositories where it matters)
// and the real CLI bundle run as a child process.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuditEvent, listEvents, verifyChain } from "../src/store/sqlite/audit-log.js";
import { StateDb } from "../src/store/state-db.js";
import { CLI, cliEnv, keelWith, type Run } from "./support/cli.js";

export { CLI, cliEnv as env, keelAsync, type Run } from "./support/cli.js";

export function keel(cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Run {
  return keelWith(extra, cwd, ...args);
}

export function json<T = Record<string, unknown>>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: cliEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

let base: string | null = null;
export function tempRoot(): string {
  base ??= realpathSync(mkdtempSync(join(tmpdir(), "keel-changes-")));
  return base;
}

export function cleanup(): void {
  if (base) rmSync(base, { recursive: true, force: true });
  base = null;
}

let counter = 0;

import { writeFile as write } from "./support/files.js";

export { write };

export function read(root: string, rel: string): string {
  return readFileSync(join(root, rel), "utf8");
}

export const PAYMENTS = `---
status: approved
---
# Payments Specification

## Purpose
Payments for the shop: charges, refunds and what each of them guarantees.

## Requirements

### Requirement: Refunds are idempotent {#PAY-4}
> status: approved · origin: human · actor: alice
The system SHALL process at most one refund per refund key. Refunds are logged.

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned

### Requirement: Charges are authorised {#PAY-5}
The system SHALL authorise each charge before capture.

#### Scenario: Capture without authorisation
- **WHEN** a capture arrives for an unauthorised charge
- **THEN** the capture is refused

### Requirement: Receipts are sent
The system SHALL send a receipt for every completed charge.

#### Scenario: Completed charge
- **WHEN** a charge completes
- **THEN** a receipt is sent to the customer

## Out of Scope
- Chargebacks.
`;

/** A project with keel/ and the payments spec; a git repository with one commit unless `git` is false. */
export function project(files: Record<string, string> = {}, options: { git?: boolean } = {}): string {
  const root = join(tempRoot(), `p${++counter}`);
  mkdirSync(root, { recursive: true });
  write(root, "keel/keel.yaml", "version: 1\n");
  write(root, ".gitignore", ".keel/\n");
  const all = { "keel/specs/payments/spec.md": PAYMENTS, ...files };
  for (const [rel, text] of Object.entries(all)) write(root, rel, text);
  if (options.git !== false) {
    git(root, "init", "-q", "-b", "main");
    git(root, "config", "user.name", "tester");
    git(root, "config", "user.email", "tester@example.com");
    git(root, "config", "commit.gpgsign", "false");
    commit(root, "initial");
  }
  return root;
}

export function commit(root: string, message: string): void {
  git(root, "add", "-A");
  git(root, "commit", "-q", "--allow-empty", "-m", message);
}

/** Every file under root except .keel/ and .git/, with its content: to prove nothing was written. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      // Keel's state, git's, and the audit segments (see NOT_PROJECT_FILES in support/files.ts).
      if ((rel === "" && (name === ".keel" || name === ".git")) || (rel === "keel" && name === "audit"))
        continue;
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(abs).isDirectory()) walk(abs, r);
      else out[r] = readFileSync(abs, "utf8");
    }
  };
  walk(root, "");
  return out;
}

export function events(root: string): AuditEvent[] {
  const state = StateDb.open(root);
  try {
    return listEvents(state);
  } finally {
    state.close();
  }
}

export function chainOk(root: string): boolean {
  const state = StateDb.open(root);
  try {
    return verifyChain(state, root).ok;
  } finally {
    state.close();
  }
}

/** A directory holding a `keel` executable that runs the bundle: git runs the merge driver by that name. */
export function keelOnPath(): string {
  const dir = join(tempRoot(), "bin");
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, "keel");
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

/** The requirement block with this heading prefix, up to the next `### ` or `## ` heading. */
export function block(text: string, heading: string): string {
  const start = text.indexOf(heading);
  if (start === -1) throw new Error(`no "${heading}"`);
  const rest = text.slice(start + heading.length);
  const next = rest.search(/\n#{2,3} /);
  return text.slice(start, next === -1 ? text.length : start + heading.length + next + 1);
}
