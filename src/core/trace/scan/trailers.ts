// Commit trailers (`Implements: PAY-1, PAY-2`, `Verifies: PAY-3`, `Task: T003`) of every commit reachable from
// HEAD, from one `git log` call. git parses the trailers (the last paragraph of the message, `Key: value` lines,
// keys matched without regard to case); a --grep keeps commits without one out of the output.
import { currentGeneration } from "../../../workspace/freshness.js";
import { gitOutputAsync } from "../../../workspace/git.js";
import { headCommit } from "../../../workspace/git-tree.js";
import type { RawLink } from "../types.js";
import { TASK_KEY } from "./ids.js";

const KEYS = ["Implements", "Verifies", "Task"] as const;

const FIELD = "\x1f";
const RECORD = "\x1e";
const VALUE = "\x1d";
const REQ_ID = /^[A-Za-z][A-Za-z0-9_./-]*$/;

export function trailerArgs(): string[] {
  const fields = KEYS.map((k) => `%(trailers:key=${k},valueonly,separator=%x1d)`).join("%x1f");
  return [
    "-c",
    "log.showSignature=false",
    "log",
    "--no-color",
    `--format=%H%x1f${fields}%x1e`,
    "--regexp-ignore-case",
    "--extended-regexp",
    ...KEYS.map((k) => `--grep=^${k}[[:space:]]*:`),
    "HEAD",
    "--",
  ];
}

/** The links of every trailer, newest commit first; [] when there is no git, no repository or no commit. */
/**
 * The trailer links of every commit reachable from HEAD. The history below a commit never changes, so a process
 * keeps the answer for the HEAD it was read at (a server traces again after every edit, at the same HEAD).
 */
export async function commitTrailers(root: string): Promise<RawLink[]> {
  // A one-shot run reads once: asking for HEAD would only cost it more git processes.
  if (currentGeneration(root) === null) return readTrailers(root);
  const head = headCommit(root);
  const kept = head === null ? undefined : byHead.get(`${root}\0${head}`);
  if (kept) return kept;
  const links = await readTrailers(root);
  // Kept only when HEAD was the same before and after the read: a commit made meanwhile may be in the answer.
  if (head !== null && headCommit(root) === head) {
    if (byHead.size > 16) byHead.clear();
    byHead.set(`${root}\0${head}`, links);
  }
  return links;
}

const byHead = new Map<string, RawLink[]>();

async function readTrailers(root: string): Promise<RawLink[]> {
  const out = await gitOutputAsync(root, trailerArgs());
  return out === null ? [] : parseTrailers(out);
}

export function parseTrailers(out: string): RawLink[] {
  const links: RawLink[] = [];
  for (const record of out.split(RECORD)) {
    const fields = record.replace(/^[\0\n]+/, "").split(FIELD);
    const sha = fields[0] as string;
    if (!/^[0-9a-f]{40,64}$/.test(sha)) continue;
    KEYS.forEach((key, k) => {
      const value = fields[k + 1] ?? "";
      const type = key === "Task" ? "task" : "req";
      for (const token of value.split(new RegExp(`[${VALUE},;\\s]+`))) {
        const id = token.replace(/[./-]+$/, "");
        if (id === "" || !(type === "task" ? TASK_KEY : REQ_ID).test(id)) continue;
        links.push({
          kind: "commit",
          source: "trailer",
          target: id,
          targetType: type,
          file: `commit:${sha}`,
          line: 0,
          col: 0,
          trailer: key,
        });
      }
    });
  }
  return links;
}
