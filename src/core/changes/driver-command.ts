// How git starts Keel's merge driver: the command `keel init` registers as `merge.keel.driver`, chosen from
// the way the running Keel was installed, and a probe that runs a registered command once, as git would.
// @req TRU-11
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { gitOutput } from "../../workspace/git.js";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";

/** What git appends to the program: the three versions and the path merged (docs/cli.md#merge-driver). */
export const DRIVER_ARGS = "merge-driver %O %A %B %P";

/** The driver for a Keel on PATH; also what `keel init` registered before it looked at how Keel was installed. */
export const PLAIN_DRIVER = `keel ${DRIVER_ARGS}`;

/** The Keel that is running: the Node binary and the entry script it was started with. */
export interface RunningKeel {
  node: string;
  script: string;
}

/**
 * The command git should run to start `keel`, the way it was installed. git runs a merge driver through
 * `sh -c` from the top of the working tree, whatever folder `git merge` was started in, with the PATH of the
 * user's shell:
 * - Keel installed in a `node_modules` folder inside the working tree (`npm install keel`, run as `npx keel`;
 *   in a monorepo that folder may be a package's, below the top): that folder's `.bin/keel`, relative to the
 *   top. It is the file `npx keel` itself runs, so it follows upgrades and survives moving the clone; it works
 *   for a package below the top, where `npx` started at the top would not find it; and it costs no npm start
 *   per merged file.
 * - Keel found on PATH as the running Keel (a global install): plain `keel`.
 * - Anything else (a source checkout, a bin folder npm did not link): the absolute Node binary and script.
 *   The command lives in the clone's own `.git/config`, which is never committed, so an absolute path there is
 *   not shared.
 */
export function driverCommand(top: string, keel: RunningKeel, env: NodeJS.ProcessEnv = process.env): string {
  const script = realpathOrNull(keel.script) ?? keel.script;
  const bin = projectBin(top, script);
  if (bin !== null) return `${shellWord(bin)} ${DRIVER_ARGS}`;
  const onPath = findOnPath("keel", shellPath(env), top);
  if (onPath !== null && realpathOrNull(onPath) === script) return PLAIN_DRIVER;
  return `${shellWord(keel.node)} ${shellWord(script)} ${DRIVER_ARGS}`;
}

/** `<node_modules>/.bin/keel` relative to the top, when `script` is that link's target inside the work tree. */
function projectBin(top: string, script: string): string | null {
  const topReal = realpathOrNull(top) ?? top;
  for (let dir = dirname(script); dirname(dir) !== dir; dir = dirname(dir)) {
    if (basename(dir) !== "node_modules") continue;
    const link = join(dir, ".bin", "keel");
    if (isWithin(topReal, dir) && realpathOrNull(link) === script) {
      return relative(topReal, link).split(sep).join("/");
    }
  }
  return null;
}

/**
 * The PATH git will hand the driver: that of the user's shell. A package manager running Keel (`npx keel`,
 * `npm run`, `pnpm exec`, `yarn`) puts project `node_modules/.bin` folders and npm's node-gyp-bin in front of
 * it, and a `git merge` typed in a shell has neither; so `npx keel init` must not count them.
 */
export function shellPath(env: NodeJS.ProcessEnv): string {
  const parts = (env.PATH ?? "").split(delimiter);
  const runByPackageManager =
    env.npm_config_user_agent !== undefined ||
    env.npm_execpath !== undefined ||
    env.npm_command !== undefined;
  if (!runByPackageManager) return parts.join(delimiter);
  return parts.filter((p) => !/[\\/](?:node_modules[\\/]\.bin|node-gyp-bin)[\\/]?$/.test(p)).join(delimiter);
}

/** The first executable `name` on `path`, as `sh` finds it from `cwd` (an empty entry is `cwd` itself). */
function findOnPath(name: string, path: string, cwd: string): string | null {
  for (const entry of path.split(delimiter)) {
    const candidate = join(resolve(cwd, entry), name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; sh goes on to the next folder.
    }
  }
  return null;
}

/** A word for `sh`: as it is when it needs no quoting, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_/.,:@+=-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * The words of a command as `sh` splits them, for what `shellWord` writes (plain words, single quotes and
 * backslashes); null for anything more (double quotes, expansions, operators): such a command is not Keel's.
 */
function shellWords(command: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (c === " " || c === "\t") {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) return null;
      word = (word ?? "") + command.slice(i + 1, end);
      i = end;
    } else if (c === "\\" && i + 1 < command.length) {
      word = (word ?? "") + command[++i];
    } else if ('"$`;&|<>()*?~#'.includes(c)) return null;
    else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}

/**
 * Is this one of the commands `keel init` writes (`driverCommand`, in any of its forms, for any install)? Such
 * a command may be replaced when it no longer starts; any other command is the user's and is left alone.
 */
export function isKeelDriver(command: string): boolean {
  const words = shellWords(command);
  if (words === null) return false;
  const tail = DRIVER_ARGS.split(" ");
  if (words.length < tail.length + 1 || words.slice(-tail.length).join(" ") !== DRIVER_ARGS) return false;
  const program = words.slice(0, -tail.length);
  if (program.length === 1) return program[0] === "keel" || /(?:^|\/)\.bin\/keel$/.test(program[0] as string);
  return program.length === 2 && /(?:^|[\\/])keel\.mjs$/.test(program[1] as string);
}

// A spec whose two requirements each branch edits: a working Keel driver merges both edits cleanly.
const PROBE_BASE = `# Merge driver check

## Purpose
What \`keel init\` and \`keel check\` merge to see that git can start Keel's merge driver.

## Requirements

### Requirement: First {#CHK-1}
The system SHALL keep the first edit.

#### Scenario: First
- **WHEN** ours edits it
- **THEN** it is kept

### Requirement: Second {#CHK-2}
The system SHALL keep the second edit.

#### Scenario: Second
- **WHEN** theirs edits it
- **THEN** it is kept
`;
const OURS_EDIT = ["the first edit.", "the first edit, from ours."] as const;
const THEIRS_EDIT = ["the second edit.", "the second edit, from theirs."] as const;
const PROBE_PATH = "keel/specs/merge-driver-check/spec.md";

/**
 * Runs `command` once the way git runs a merge driver (placeholders replaced by quoted temp files, `sh -c`
 * from the top of the working tree, the user's PATH) on two branches that edited different requirements.
 * Returns null when it works, else what went wrong. One of Keel's commands must exit 0 with both edits merged;
 * a command of the user's only has to start (sh finds and runs it), since what it merges is its own business.
 */
export function driverProblem(
  top: string,
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const dir = mkdtempSync(join(tmpdir(), "keel-driver-check-"));
  try {
    const file = { O: join(dir, "base"), A: join(dir, "ours"), B: join(dir, "theirs") };
    writeFileSync(file.O, PROBE_BASE);
    writeFileSync(file.A, PROBE_BASE.replace(...OURS_EDIT));
    writeFileSync(file.B, PROBE_BASE.replace(...THEIRS_EDIT));
    const values: Record<string, string> = {
      ...file,
      P: PROBE_PATH,
      L: "7",
      S: "base",
      X: "ours",
      Y: "theirs",
    };
    const line = command.replace(/%([OABPLSXY])/g, (_, k: string) =>
      k === "L" ? (values.L as string) : shellWord(values[k] as string),
    );
    const r = spawnSync("sh", ["-c", line], {
      cwd: top,
      env: { ...env, PATH: shellPath(env) },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    const said = telling(r.stderr ?? "");
    if (r.error) return `it could not be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
    if (r.status === 127 || r.status === 126) return `sh could not start it${said ? `: ${said}` : ""}`;
    if (r.status === null) return `it was stopped by ${r.signal}`;
    if (!isKeelDriver(command)) return null;
    if (r.status !== 0) return `it exited with ${r.status}${said ? `: ${said}` : ""}`;
    const merged = readFileSync(file.A, "utf8");
    return merged === PROBE_BASE.replace(...OURS_EDIT).replace(...THEIRS_EDIT)
      ? null
      : "it exited 0 without merging two edits of different requirements";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The line of stderr that says what went wrong (Node ends a crash with its version, not the error). */
function telling(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.find((l) => /\b(?:\w*Error\b|not found|No such file|denied)/.test(l)) ?? lines.at(-1) ?? "";
}

/** The merge driver git would run for spec files in this clone, and whether it starts. */
export interface DriverStatus {
  command: string;
  /** Null when it works (see `driverProblem`). */
  problem: string | null;
}

/**
 * The driver registered for the spec files under `root` (its `.gitattributes` send them to `merge=keel` and
 * git config names `merge.keel.driver`), checked by running it once; null when none is registered, as in a
 * fresh clone or CI, where git config has not been set up and no merge runs.
 */
export function registeredDriver(root: string): DriverStatus | null {
  const specs = ["keel", "openspec"].map((layout) => `${layout}/specs/merge-driver-check/spec.md`);
  const attrs = gitOutput(root, ["check-attr", "merge", "--", ...specs]);
  if (attrs === null || !/: merge: keel$/m.test(attrs)) return null;
  const command = gitOutput(root, ["config", "--get", "merge.keel.driver"])?.trim();
  const top = gitOutput(root, ["rev-parse", "--show-toplevel"])?.trim();
  if (!command || !top) return null;
  return { command, problem: driverProblem(top, command) };
}
