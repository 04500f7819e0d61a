// Shared by the audit-, policy-, history- and provenance-*.test.ts files: projects in temporary folders, real
// git repositories, and the real CLI bundle (dist/keel.mjs, built by tests/setup/build.ts) run as a child process.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { cliEnv, keelWith, type Run, keelAsync as sharedKeelAsync } from "./support/cli.js";

export { CLI, type Run } from "./support/cli.js";
export const Database = createRequire(import.meta.url)("better-sqlite3") as typeof import("better-sqlite3");

/** The environment of a child: the shared one, with git identity from the test repository's config only. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...extra });
}

export function keel(cwd: string, args: string[], env: Record<string, string> = {}): Run {
  return keelWith({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...env }, cwd, ...args);
}

export function keelAsync(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return sharedKeelAsync(cwd, args, { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...env });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field
export function json(run: Run): any {
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}

export interface TempRoot {
  project(files: Record<string, string>): string;
  cleanup(): void;
}

export function tempRoot(prefix: string): TempRoot {
  const base = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  let n = 0;
  return {
    project(files) {
      const root = join(base, `p${++n}`);
      mkdirSync(root, { recursive: true });
      for (const [rel, text] of Object.entries(files)) write(root, rel, text);
      return root;
    },
    cleanup() {
      rmSync(base, { recursive: true, force: true });
    },
  };
}

import { writeFile as write } from "./support/files.js";

export { write };

export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: childEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** `git init` with a fixed identity, so commits say who made them. */
export function gitInit(root: string, name = "Alice Example", email = "alice@example.org"): void {
  git(root, ["init", "-q", "-b", "main"]);
  git(root, ["config", "user.name", name]);
  git(root, ["config", "user.email", email]);
  git(root, ["config", "commit.gpgsign", "false"]);
}

/** Commits everything with a message and an author date (so history order and times are known). */
export function commitAll(root: string, message: string, date: string, author?: string): string {
  git(root, ["add", "-A"]);
  const env: Record<string, string> = { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const args = ["commit", "-q", "-m", message];
  if (author) args.push(`--author=${author}`);
  git(root, args, env);
  return git(root, ["rev-parse", "HEAD"]).trim();
}

export interface SpecReq {
  id: string;
  title: string;
  marker?: string;
  text: string;
  scenario?: [string, string];
}

/** A capability spec in the Keel dialect. */
export function spec(title: string, reqs: SpecReq[]): string {
  let s = `# ${title} Specification\n\n## Purpose\nWhat ${title} does.\n\n## Requirements\n\n`;
  for (const r of reqs) {
    s += `### Requirement: ${r.title} {#${r.id}}\n`;
    if (r.marker) s += `> ${r.marker}\n`;
    s += `${r.text}\n\n`;
    const [when, then] = r.scenario ?? ["it is asked", "it happens"];
    s += `#### Scenario: ${r.title} works\n- **WHEN** ${when}\n- **THEN** ${then}\n\n`;
  }
  return s;
}

/**
 * A repository whose spec file has `versions` commits, each changing requirement PAY-1 (and never the other
 * `others` requirements), written in one `git fast-import` run — thousands of commits in well under a second.
 */
export function repoWithVersions(root: string, versions: number, others: number): void {
  mkdirSync(root, { recursive: true });
  gitInit(root);
  const reqs = (i: number): SpecReq[] => [
    { id: "PAY-1", title: "Refund limit", text: `The system SHALL refund at most ${i} times per key.` },
    ...Array.from({ length: others }, (_, k) => ({
      id: `PAY-${k + 2}`,
      title: `Other rule ${k + 2}`,
      text: `The system SHALL apply rule ${k + 2}.`,
    })),
  ];
  let stream = "";
  for (let i = 1; i <= versions; i++) {
    const body = Buffer.from(spec("Payments", reqs(i)));
    const msg = `payments: version ${i}`;
    stream += `commit refs/heads/main\ncommitter Bench Bot <bench@example.org> ${1_700_000_000 + i * 60} +0000\n`;
    stream += `data ${Buffer.byteLength(msg)}\n${msg}\n`;
    stream += `M 100644 inline keel/specs/payments/spec.md\ndata ${body.length}\n${body}\n`;
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: root, input: stream, env: childEnv() });
  git(root, ["checkout", "-q", "-f", "main"]);
}
