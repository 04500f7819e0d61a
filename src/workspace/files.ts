// The project's own files. Git knows them cheaply (tracked plus untracked, ignored ones left out); without git a
// walk stands in that leaves out the same files: it honours every .gitignore on the way (the `ignore` package
// implements git's pattern rules), never enters .git/, node_modules/ or .keel/, and never follows a symbolic
// link (one could lead out of the project, or loop). The trace scan and the task-boundary checks share it.
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import ignore, { type Ignore } from "ignore";
import { gitOutput } from "./git.js";

/** Above this many files the walk gives up: the check it serves is not worth a long walk. */
export const WALK_LIMIT = 20_000;

/** Folders a walk never enters, wherever they are: version control, dependencies, Keel's own state. */
export const SKIP_ANYWHERE: ReadonlySet<string> = new Set([".git", "node_modules", ".keel"]);

/** Project-relative `/`-separated paths of the project's files, sorted; null when they cannot be had cheaply. */
export function projectFiles(root: string, limit = WALK_LIMIT): string[] | null {
  const listed = gitOutput(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  if (listed !== null) return [...new Set(listed.split("\0").filter((f) => f !== ""))].sort();
  const out: string[] = [];
  for (const rel of walkFiles(root)) {
    out.push(rel);
    if (out.length > limit) return null;
  }
  return out.sort();
}

interface Rules {
  /** Folder the .gitignore is in, project-relative ("" for the root). */
  base: string;
  ig: Ignore;
}

/**
 * The files under `root`, project-relative and `/`-separated, as git would list them outside a repository:
 * .gitignore honoured, symbolic links not followed. `skipAtRoot`: top-level folders also left out.
 */
export function* walkFiles(root: string, skipAtRoot: ReadonlySet<string> = new Set()): Generator<string> {
  const pending: Array<{ dir: string; rules: Rules[] }> = [{ dir: "", rules: [] }];
  while (pending.length > 0) {
    const { dir, rules: inherited } = pending.pop() as { dir: string; rules: Rules[] };
    let entries: Dirent[];
    try {
      entries = readdirSync(dir === "" ? root : `${root}/${dir}`, { withFileTypes: true });
    } catch {
      continue; // unreadable folder: its files are not listed
    }
    let rules = inherited;
    if (entries.some((e) => e.name === ".gitignore" && e.isFile())) {
      try {
        const text = readFileSync(`${root}/${dir === "" ? "" : `${dir}/`}.gitignore`, "utf8");
        rules = [...inherited, { base: dir, ig: ignore({ ignorecase: false }).add(text) }];
      } catch {
        // an unreadable .gitignore ignores nothing
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = dir === "" ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (SKIP_ANYWHERE.has(e.name) || (dir === "" && skipAtRoot.has(e.name))) continue;
        if (!isIgnored(rules, rel, true)) pending.push({ dir: rel, rules });
      } else if (e.isFile() && !isIgnored(rules, rel, false)) {
        yield rel;
      }
    }
  }
}

/** Git's rule: the deepest .gitignore that matches decides; a negation (`!x`) re-includes. */
function isIgnored(rules: Rules[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { base, ig } of rules) {
    const path = base === "" ? rel : rel.slice(base.length + 1);
    const r = ig.test(isDir ? `${path}/` : path);
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}
