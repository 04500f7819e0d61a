// The sandbox an agent runs in: bubblewrap (`bwrap`) with the whole filesystem read-only, the agent's worktree
// (and the few paths the runner names) writable, Keel's state hidden, and the network off unless the agent needs
// it. Running unsandboxed takes an explicit `--sandbox none`: a missing or broken bubblewrap is an error, never a
// silent fallback. Only the command line is built here; the runner spawns it with the agent's environment.
// @req RUN-10
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { delimiter, join, sep } from "node:path";
import { EXIT, KeelError } from "../workspace/errors.js";
import type { SandboxMode } from "../workspace/run-config.js";

export interface SandboxRequest {
  /** The agent's command line. */
  argv: string[];
  /** Absolute path of the worktree: the agent's working directory, writable. */
  cwd: string;
  /** Further writable paths (absolute), e.g. the attempt's scratch folder. Each must exist. */
  writable: string[];
  /**
   * Absolute paths replaced by an empty, read-only folder (the project's `.keel/` with the state database), or, for
   * a file, made unreadable. A writable path inside one (the worktree under `.keel/run/worktrees/`) stays visible
   * and writable. Paths that do not exist are left alone.
   */
  hidden: string[];
  /**
   * Paths kept visible, read-only, where the sandbox's private /tmp would cover them: the main checkout when it
   * lies under /tmp (the worktree's git metadata lives there). Everything else is read-only already.
   */
  readOnly?: string[];
  /** false: the agent gets its own network namespace with nothing but a loopback of its own. */
  network: boolean;
}

export interface Sandbox {
  kind: "bwrap" | "none";
  /** The argv to spawn instead of `req.argv`. Killing that process ends everything the agent started. */
  wrap(req: SandboxRequest): string[];
}

export const SANDBOX_UNAVAILABLE = "sandbox-unavailable";

/**
 * Flags of every bubblewrap run. All capabilities are dropped: run as root, bubblewrap keeps them by default and
 * the agent could remount `/` read-write. `--die-with-parent`: a killed worker takes its agent with it;
 * `--new-session`: no TIOCSTI into the terminal Keel runs in.
 */
const BASE_FLAGS = [
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--cap-drop",
  "ALL",
  "--unshare-pid",
  "--unshare-ipc",
  "--unshare-uts",
  "--die-with-parent",
  "--new-session",
];

const PROBE_TIMEOUT_MS = 10_000;

const unsandboxed: Sandbox = { kind: "none", wrap: (req) => req.argv };

/** One answer per PATH: bubblewrap is probed once per process (a test that changes PATH gets its own answer). */
const probed = new Map<string, Sandbox | KeelError>();

export function openSandbox(mode: SandboxMode): Sandbox {
  if (mode === "none") return unsandboxed;
  // "auto" and "bwrap" differ only in name today: bubblewrap is the one sandbox Keel knows, and "auto" never falls
  // back to none by itself.
  const path = process.env.PATH ?? "";
  let answer = probed.get(path);
  if (answer === undefined) {
    answer = probeBubblewrap(path);
    probed.set(path, answer);
  }
  if (answer instanceof KeelError) throw answer;
  return answer;
}

function probeBubblewrap(path: string): Sandbox | KeelError {
  const bwrap = findOnPath("bwrap", path);
  if (bwrap === null)
    return unavailable(
      "bubblewrap (`bwrap`) is not on PATH",
      "install it (`apt-get install bubblewrap`), or pass `--sandbox none` to run agents unsandboxed",
    );
  const probe = spawnSync(bwrap, [...BASE_FLAGS, "--unshare-net", "true"], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    timeout: PROBE_TIMEOUT_MS,
  });
  if (probe.status !== 0) {
    const why = probe.error?.message ?? (probe.stderr.trim() || `exit ${probe.status ?? probe.signal}`);
    return unavailable(
      `bubblewrap (${bwrap}) does not work here: ${why}`,
      "it needs user namespaces (check `sysctl kernel.unprivileged_userns_clone` and AppArmor's " +
        "`kernel.apparmor_restrict_unprivileged_userns`), or reinstall it (`apt-get install bubblewrap`); " +
        "or pass `--sandbox none` to run agents unsandboxed",
    );
  }
  return { kind: "bwrap", wrap: (req) => [bwrap, ...bwrapArgs(req)] };
}

function unavailable(message: string, hint: string): KeelError {
  return new KeelError(
    `cannot sandbox the agent: ${message}`,
    EXIT.usage,
    hint,
    undefined,
    SANDBOX_UNAVAILABLE,
  );
}

function findOnPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

type Mount = { kind: "tmpfs" | "ro" | "hidden" | "hidden-file" | "rw"; path: string };

/**
 * bubblewrap mounts in argument order, a later mount covering an earlier one. Sorted by depth, a path's own rule
 * lands after its ancestors' rules, so the most specific one wins whatever order the runner lists them in (at
 * equal paths, the later kind of tmpfs, ro, hidden, rw). Hidden folders are made read-only last: their mount
 * points for nested writable paths must be created first.
 */
function bwrapArgs(req: SandboxRequest): string[] {
  const mounts: Mount[] = [
    { kind: "tmpfs", path: "/tmp" },
    ...existing(req.readOnly ?? []).map((path): Mount => ({ kind: "ro", path })),
    ...existing(req.hidden).map(hide),
    ...[req.cwd, ...req.writable].map((path): Mount => ({ kind: "rw", path: writablePath(path) })),
  ];
  const ordered = mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.path) - depth(b.m.path) || a.i - b.i);
  const args = [...BASE_FLAGS];
  if (!req.network) args.push("--unshare-net");
  for (const { m } of ordered) args.push(...MOUNT_FLAGS[m.kind](m.path));
  for (const m of mounts) if (m.kind === "hidden") args.push("--remount-ro", m.path);
  args.push("--chdir", writablePath(req.cwd), "--", ...req.argv);
  return args;
}

const MOUNT_FLAGS: Record<Mount["kind"], (path: string) => string[]> = {
  tmpfs: (path) => ["--tmpfs", path],
  hidden: (path) => ["--tmpfs", path],
  "hidden-file": (path) => ["--ro-bind", "/dev/null", path],
  ro: (path) => ["--ro-bind", path, path],
  rw: (path) => ["--bind", path, path],
};

/**
 * A hidden folder becomes an empty tmpfs (read-only once the paths inside it are mounted). A hidden file becomes
 * /dev/null on a mount without devices: opening it, to read or to write, is refused.
 */
function hide(path: string): Mount {
  return { kind: statSync(path).isDirectory() ? "hidden" : "hidden-file", path };
}

/** Real paths of those that exist: nothing to hide or keep where nothing is. */
function existing(paths: string[]): string[] {
  return paths.filter((p) => existsSync(p)).map((p) => realpathSync(p));
}

function writablePath(path: string): string {
  if (!existsSync(path)) throw new Error(`sandbox: the writable path ${path} does not exist`);
  return realpathSync(path);
}

function depth(path: string): number {
  return path.split(sep).filter(Boolean).length;
}
