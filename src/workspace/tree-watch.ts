// The watcher behind a long-lived process's freshness (workspace/freshness.ts): one `fs.watch` per folder of the
// project, so every event arrives through the one inotify queue libuv keeps per event loop, in the order the
// kernel saw them. That order is what `sync` relies on, as Watchman's cookies do: it writes a file in a watched
// folder of its own and waits for that file's event; every change made before the call has then been counted.
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
import { join } from "node:path";
import { SKIP_ANYWHERE } from "./files.js";
import type { Freshness } from "./freshness.js";

/** More folders than this and the watcher gives up: checks fall back to stat passes, as without a watcher. */
export const MAX_WATCHED_FOLDERS = 100_000;
/** A cookie not seen within this long means the watcher has stopped working: it is then not trusted. */
const SYNC_TIMEOUT_MS = 5_000;
/** Git's own folders whose entries change when the index, HEAD or a branch moves (the trace reads git). */
const GIT_FOLDERS = [".git", ".git/refs", ".git/refs/heads"];

export class TreeWatcher implements Freshness {
  #generation = 0;
  #broken = false;
  /** Watched folders by path, with the inode watched: a folder removed and made again is a new inode. */
  readonly #folders = new Map<string, { watcher: FSWatcher; ino: number }>();
  readonly #cookies: string;
  readonly #waiting = new Map<string, () => void>();
  #sequence = 0;

  /** Starts watching `root`; `cookieDir` is a folder of Keel's state, watched only for the sync cookies. */
  constructor(
    readonly root: string,
    cookieDir: string,
  ) {
    this.#cookies = cookieDir;
    mkdirSync(cookieDir, { recursive: true, mode: 0o700 });
    this.#watchFolder(cookieDir, (name) => {
      if (name) this.#waiting.get(name)?.();
    });
    this.#watchTree(root);
    for (const rel of GIT_FOLDERS) this.#watchIfFolder(join(root, rel), () => this.#changed());
  }

  /** How many changes were seen; null once the watcher cannot be trusted (too many folders, an error). */
  generation(root: string): number | null {
    return this.#broken || root !== this.root ? null : this.#generation;
  }

  get folders(): number {
    return this.#folders.size;
  }

  /** Resolves once every change made before the call has been counted (or the watcher is marked broken). */
  async sync(): Promise<void> {
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

  close(): void {
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
    for (const resolve of this.#waiting.values()) resolve();
    this.#broken = true;
  }

  #changed(): void {
    this.#generation++;
  }

  /** Watches `dir` and every folder below it, except version control, dependencies and Keel's state. */
  #watchTree(dir: string): void {
    const pending = [dir];
    while (pending.length > 0 && !this.#broken) {
      const current = pending.pop() as string;
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
    this.#changed();
    if (!name || SKIP_ANYWHERE.has(name)) return;
    const path = join(dir, name);
    try {
      if (lstatSync(path).isDirectory()) this.#watchTree(path);
    } catch {
      // Removed or renamed away: fs.watch ends that folder's watcher with an error, handled there.
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
      this.#changed();
    });
    this.#folders.set(dir, { watcher, ino });
    return true;
  }
}
