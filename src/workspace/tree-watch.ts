// The watcher behind a long-lived process's freshness (workspace/freshness.ts): one `fs.watch` per folder of the
// project, so every event arrives through the one inotify queue libuv keeps per event loop, in the order the
// kernel saw them. That order is what `sync` relies on, as Watchman's cookies do: it writes a file in a watched
// folder of its own and waits for that file's event; every change made before the call has then been counted.
// @req DMN-5
import {
  type Dirent,
  type FSWatcher,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join, sep } from "node:path";
import { SKIP_ANYWHERE } from "./files.js";
import { type Freshness, installFreshness, type Scope } from "./freshness.js";
import { AUDIT_DIR } from "./paths.js";

/** More folders than this and the watcher gives up: checks fall back to stat passes, as without a watcher. */
export const MAX_WATCHED_FOLDERS = 100_000;
/** A cookie not seen within this long means the watcher has stopped working: it is then not trusted. */
const SYNC_TIMEOUT_MS = 5_000;
/**
 * Git's own folders whose entries change when the index, HEAD or a branch moves (the trace and the tree state
 * read git): `.git` itself, and every folder of `.git/refs/heads` (a branch `a/b` is a file in `heads/a/`).
 */
const GIT_DIR = ".git";
const BRANCHES = join(".git", "refs", "heads");

/** The folders of intent, which the `code` scope leaves out (see freshness.ts). */
const INTENT_DIRS = ["keel", "openspec"];

/** Where the sync cookies are written: a folder of Keel's state, watched for them alone. */
const COOKIE_DIR = join(".keel", "watch-cookies");

/**
 * Watches `root` and makes this process answer freshness from it (workspace/freshness.ts); null when it cannot
 * (no writable state folder for the cookies), and the process then checks by stat as a one-shot run does.
 */
export function watchProject(root: string): TreeWatcher | null {
  try {
    const watcher = new TreeWatcher(root, join(root, COOKIE_DIR));
    installFreshness(watcher);
    return watcher;
  } catch {
    return null;
  }
}

export class TreeWatcher implements Freshness {
  #generation = 0;
  #codeGeneration = 0;
  #gitGeneration = 0;
  #intent: string[] = [];
  #git = "";
  #broken = false;
  /** Watched folders by path, with the inode watched: a folder removed and made again is a new inode. */
  readonly #folders = new Map<string, { watcher: FSWatcher; ino: number }>();
  readonly #cookies: string;
  readonly #audit: string;
  readonly #waiting = new Map<string, () => void>();
  #sequence = 0;

  /** Starts watching `root`; `cookieDir` is a folder of Keel's state, watched only for the sync cookies. */
  constructor(
    readonly root: string,
    cookieDir: string,
  ) {
    this.#cookies = cookieDir;
    this.#audit = join(root, AUDIT_DIR);
    mkdirSync(cookieDir, { recursive: true, mode: 0o700 });
    this.#watchFolder(cookieDir, (name) => {
      if (name) this.#waiting.get(name)?.();
    });
    this.#intent = INTENT_DIRS.map((d) => join(root, d));
    this.#git = join(root, GIT_DIR);
    this.#watchTree(root);
    this.#watchIfFolder(this.#git, () => this.#changed(this.#git));
    this.#watchTree(join(root, BRANCHES));
  }

  /** How many changes of `scope` were seen; null once the watcher cannot be trusted (too many folders, an error). */
  generation(root: string, scope: Scope = "all"): number | null {
    if (this.#broken || root !== this.root) return null;
    return scope === "all" ? this.#generation : scope === "code" ? this.#codeGeneration : this.#gitGeneration;
  }

  wrote(path: string): void {
    if (path === this.root || path.startsWith(`${this.root}${sep}`)) this.#changed(path);
  }

  get folders(): number {
    return this.#folders.size;
  }

  /**
   * Resolves once every change made before the call has been counted (or the watcher is marked broken). Callers in
   * the same turn of the event loop share one cookie, written after the last of them asked: each of them asked
   * before it was written, which is all a cookie has to vouch for.
   */
  sync(): Promise<void> {
    if (this.#broken) return Promise.resolve();
    this.#shared ??= new Promise((resolve) =>
      setImmediate(() => {
        this.#shared = null;
        void this.#cookie().then(resolve);
      }),
    );
    return this.#shared;
  }

  /** The cookie a sync shares: one not yet written, which callers may still join. */
  #shared: Promise<void> | null = null;

  async #cookie(): Promise<void> {
    if (this.#broken) return;
    const name = `${process.pid}-${++this.#sequence}`;
    const path = join(this.#cookies, name);
    const seen = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#broken = true;
        resolve();
      }, SYNC_TIMEOUT_MS);
      this.#waiting.set(name, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      writeFileSync(path, "");
    } catch {
      this.#broken = true;
    }
    await seen;
    this.#waiting.delete(name);
    rmSync(path, { force: true });
  }

  /** Stops watching (and answering this process's freshness, if it did). */
  close(): void {
    installFreshness(null);
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
    for (const resolve of this.#waiting.values()) resolve();
    this.#broken = true;
  }

  /** Counts a change in folder `dir` (or of `dir` itself) in every scope it belongs to. */
  #changed(dir: string): void {
    this.#generation++;
    const under = (base: string) => dir === base || dir.startsWith(`${base}${sep}`);
    if (under(this.#git)) {
      this.#gitGeneration++;
      this.#codeGeneration++;
    } else if (!this.#intent.some(under)) this.#codeGeneration++;
  }

  /**
   * Watches `dir` and every folder below it, except version control, dependencies, Keel's state and its audit
   * segments: every claim appends to those, and nothing kept in memory is made from them.
   */
  #watchTree(dir: string): void {
    const pending = [dir];
    while (pending.length > 0 && !this.#broken) {
      const current = pending.pop() as string;
      if (current === this.#audit) continue;
      if (!this.#watchFolder(current, (name) => this.#onEntry(current, name))) continue;
      let entries: Dirent[];
      try {
        entries = readdirSync(current, { withFileTypes: true });
      } catch {
        continue; // gone already: its removal was an event in its parent
      }
      for (const e of entries)
        if (e.isDirectory() && !SKIP_ANYWHERE.has(e.name)) pending.push(join(current, e.name));
    }
  }

  /** An entry of a watched folder changed: count it, and watch it if it is a new folder. */
  #onEntry(dir: string, name: string | null): void {
    this.#changed(name ? join(dir, name) : dir);
    if (!name || SKIP_ANYWHERE.has(name)) return;
    const path = join(dir, name);
    try {
      if (lstatSync(path).isDirectory()) this.#watchTree(path);
    } catch {
      this.#forget(path);
    }
  }

  /**
   * An entry removed or renamed away: its watchers (and those below it) are closed. They would hear nothing more,
   * and a folder made again under the name, often with the same inode number, must be watched anew.
   */
  #forget(path: string): void {
    for (const [dir, { watcher }] of this.#folders) {
      if (dir !== path && !dir.startsWith(`${path}${sep}`)) continue;
      watcher.close();
      this.#folders.delete(dir);
    }
  }

  #watchIfFolder(path: string, onEvent: (name: string | null) => void): void {
    try {
      if (lstatSync(path).isDirectory()) this.#watchFolder(path, onEvent);
    } catch {
      // absent: nothing to watch
    }
  }

  /** Watches one folder; false when it is gone, or already watched as the same inode. */
  #watchFolder(dir: string, onEvent: (name: string | null) => void): boolean {
    if (this.#folders.size >= MAX_WATCHED_FOLDERS) {
      this.#broken = true;
      return false;
    }
    let ino: number;
    try {
      ino = lstatSync(dir).ino;
    } catch {
      return false;
    }
    const known = this.#folders.get(dir);
    if (known?.ino === ino) return false;
    known?.watcher.close();
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, name) =>
        onEvent(name === null ? null : String(name)),
      );
    } catch (e) {
      // Out of inotify watches (ENOSPC) cannot be told from a folder that vanished (ENOENT) by trying again later.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.#broken = true;
      return false;
    }
    // The folder was removed or renamed: its parent's event counted it; a folder made again there is watched anew.
    watcher.on("error", () => {
      watcher.close();
      if (this.#folders.get(dir)?.watcher === watcher) this.#folders.delete(dir);
      this.#changed(dir);
    });
    this.#folders.set(dir, { watcher, ino });
    return true;
  }
}
