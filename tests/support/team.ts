// A team-mode project for tests: a bare remote holding a project with many independent tasks, N checkouts of it
// (one per server, as on N machines), and one PostgreSQL database migrated by `keel store migrate`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { FEATURES, writeTeamProject } from "../../scripts/team-project.mjs";
import { keelWith } from "./cli.js";
import { commitAll, git, gitInit } from "./git.js";

/** Task keys of a project with `tasks` independent tasks spread over FEATURES changes. */
export function taskKeys(tasks: number): string[] {
  return Array.from({ length: tasks }, (_, i) => `f${1 + (i % FEATURES)}/T${i + 1}`);
}

const made: string[] = [];

/** Removes every folder teamRemote made in this test file (its checkouts are beside the remote). */
export function removeTeamRemotes(): void {
  for (const base of made.splice(0)) rmSync(base, { recursive: true, force: true });
}

/** Writes the project into a bare remote and returns its path; removeTeamRemotes removes it with its checkouts. */
export function teamRemote(tasks: number, config = ""): string {
  const base = mkdtempSync(join(tmpdir(), "keel-team-"));
  made.push(base);
  const seed = join(base, "seed");
  writeTeamProject(seed, tasks, "team", config);
  gitInit(seed);
  commitAll(seed, "the team's project");
  const remote = join(base, "remote.git");
  git(base, "clone", "-q", "--bare", seed, remote);
  return remote;
}

/** A checkout of the remote, as one machine of the team has it. */
export function checkout(remote: string, name: string): string {
  const dir = join(remote, "..", name);
  git(join(remote, ".."), "clone", "-q", remote, dir);
  git(dir, "config", "user.name", `Server ${name}`);
  git(dir, "config", "user.email", `${name}@example.org`);
  return dir;
}

/** `keel store migrate` against `url`, from `root`. */
export function migrateStore(root: string, url: string): void {
  const r = keelWith({ KEEL_STORE_URL: url }, root, "store", "migrate");
  expect(r.code, r.stderr).toBe(0);
}

export interface ClaimReply {
  status: number;
  grant: { taskId: string; token: number; holder: string } | null;
  retryAfter: string | undefined;
}

/**
 * POST /api/tasks/claim-next (as the server's actor); a 503 (the store unreachable) is returned, not thrown. It
 * rejects when the connection fails (a server killed mid-request), which httpRequest, made for refused bodies,
 * does not do for a request with a body.
 */
export async function claimNextVia(port: number, ttl = "10m"): Promise<ClaimReply> {
  const r = await fetch(`http://127.0.0.1:${port}/api/tasks/claim-next`, {
    method: "POST",
    body: JSON.stringify({ ttl }),
    headers: { "content-type": "application/json" },
  });
  const json = (await r.json()) as { result?: ClaimReply["grant"] };
  return {
    status: r.status,
    grant: r.status === 200 ? (json.result ?? null) : null,
    retryAfter: r.headers.get("retry-after") ?? undefined,
  };
}
