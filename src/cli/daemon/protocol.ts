// What the CLI and `keel daemon` say to each other over the daemon's local socket, and which command lines the
// daemon may answer: reads only, whose answer depends on nothing but the project, the arguments, the
// environment and whether the output is coloured. Kept free of heavy imports: the CLI loads it on every run.
import { join } from "node:path";

/** `.keel/daemon.json`: where the daemon listens, and the token a client must present. Owner-only (0600). */
export const DAEMON_FILE = join(".keel", "daemon.json");

export interface DaemonRecord {
  pid: number;
  /** Absolute path of the unix socket. */
  socket: string;
  /** Random, 32 bytes hex: only a reader of the owner-only record can present it. */
  token: string;
  /** The Keel build serving: a client of another build answers itself (its answer could differ). */
  build: string;
  root: string;
  startedAt: string;
}

export interface DaemonRequest {
  token: string;
  build: string;
  /** Asks only for the daemon's figures (`keel daemon status`); argv is then empty. */
  ping?: boolean;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  color: boolean;
}

/**
 * The second line: the exit code and the byte lengths of stdout and stderr, which follow as they are (no JSON
 * escaping of a large answer); or a refusal.
 */
export type DaemonHeader =
  | { code: number; stdout: number; stderr: number }
  | { pong: DaemonFigures }
  /** Not for this daemon (another project, another build, a command it does not answer): run it locally. */
  | { declined: string };

export type DaemonAnswer =
  | { code: number; stdout: Buffer; stderr: Buffer }
  | { pong: DaemonFigures }
  | { declined: string };

export interface DaemonFigures {
  /** Command lines answered since the daemon started. */
  served: number;
  /** Folders the watcher watches; its event count; false once it cannot be trusted (checks then stat). */
  folders: number;
  events: number | null;
  /** Resident memory of the daemon, in bytes. */
  rss: number;
}

/** Commands answered whole; `tasks` and `trace` only for their reading subcommands. */
const READS = new Set([
  "validate",
  "list",
  "show",
  "search",
  "status",
  "analyze",
  "coverage",
  "drift",
  "check",
  "history",
  "blame",
  "context",
  "conflicts",
]);
const TASK_READS = new Set(["list", "show", "ready", "graph"]);
const TRACE_WRITES = new Set(["ack", "scan"]);

/**
 * The command line's words without the global flags, or null when the daemon must not answer it: help and
 * version are answered locally (they cost nothing), and so is anything that writes or reads a terminal.
 */
export function forwardable(argv: readonly string[]): string[] | null {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") return null;
    if (a === "-h" || a === "--help" || a === "-v" || a === "--version") return null;
    if (a === "-C" || a === "--root") i++;
    else if (a !== "--json" && !a.startsWith("--root=")) words.push(a);
  }
  const [name, sub] = words;
  if (name === undefined) return null;
  if (name === "tasks") return sub !== undefined && TASK_READS.has(sub) ? words : null;
  if (name === "trace") return sub !== undefined && TRACE_WRITES.has(sub) ? null : words;
  if (name === "drift" && words.includes("--baseline")) return null; // it writes keel/drift-baseline.json
  return READS.has(name) ? words : null;
}

/** The folder the command line names with -C/--root, if any. */
export function rootFlag(argv: readonly string[]): string | null {
  let root: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "-C" || a === "--root") root = argv[++i] ?? null;
    else if (a.startsWith("--root=")) root = a.slice(7);
  }
  return root;
}
