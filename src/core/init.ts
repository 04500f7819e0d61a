// `keel init`: lays out keel/ in a repository. Idempotent, and it never overwrites or degrades a file that
// exists: what is there is kept (and checked), only what is missing is created, and `.gitignore` only ever
// gains one line. Every write is atomic.
// @req INIT-1, INIT-5, INIT-6, TRU-11

import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { STATE_DIR } from "../store/index-db.js";
import { writeFileAtomic } from "../workspace/atomic.js";
import { CONFIG_FILE, DEFAULT_VAGUE_TERMS, parseConfig } from "../workspace/config.js";
import { KeelError, projectError } from "../workspace/errors.js";
import { gitOutput } from "../workspace/git.js";
import { isWithin } from "../workspace/paths.js";
import { decodeSource } from "../workspace/read.js";
import {
  driverCommand,
  driverProblem,
  isKeelDriver,
  PLAIN_DRIVER,
  type RunningKeel,
  shellWord,
} from "./changes/driver-command.js";

export interface InitWarning {
  /** Project-relative path the warning is about. */
  file: string;
  line?: number;
  col?: number;
  message: string;
  hint: string;
}

// @req INIT-7
/** What `keel init` did. Paths are project-relative with forward slashes; folders end with "/". */
export interface InitReport {
  version: 1;
  root: string;
  created: string[];
  kept: string[];
  updated: string[];
  warnings: InitWarning[];
  /** The `merge.keel.driver` command git runs for spec files; only in a git work tree. */
  mergeDriver?: string;
}

// @req INIT-1
/**
 * The folder `keel init` works in when no --root is given: the nearest folder, from `cwd` upwards, that
 * holds `.git` (a folder, or a file in worktrees and submodules); `cwd` itself when there is none.
 */
// @req INIT-8
export function findInitRoot(cwd: string): string {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export interface InitOptions {
  /**
   * The Keel that runs `keel init`, whose merge driver is registered (see `driverCommand`). Without it (a
   * library caller that is not Keel's CLI) the driver is plain `keel`, for a Keel on PATH.
   */
  keel?: RunningKeel;
  /** The environment the driver is looked for and tried in, as git will run it; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export function initProject(rootArg: string, options: InitOptions = {}): InitReport {
  const root = resolve(rootArg);
  if (!isDirectory(root)) {
    throw projectError(
      `folder not found: ${rootArg}`,
      "pass an existing folder with --root, or cd into the repository",
    );
  }
  const rootReal = realpathSync(root);
  const report: InitReport = { version: 1, root, created: [], kept: [], updated: [], warnings: [] };
  const inside = (abs: string): boolean => {
    const real = realOrNull(abs);
    return real !== null && isWithin(rootReal, real);
  };

  // keel/ itself: checked before anything is written, so a refusal leaves the tree untouched.
  const keelDir = join(root, "keel");
  const keelStat = lstatOrNull(keelDir);
  if (keelStat && !(isDirectory(keelDir) && inside(keelDir))) {
    throw projectError(
      keelStat.isSymbolicLink() && isDirectory(keelDir)
        ? "keel/ is a symbolic link to a folder outside the project; Keel does not write through it"
        : "keel exists and is not a folder",
      "move it out of the way, then run `keel init` again",
      { file: "keel", line: 1, col: 1 },
    );
  }

  ensureFile(root, CONFIG_FILE, () => configTemplate(basename(rootReal)), report, checkConfig);
  ensureFile(root, "keel/constitution.md", () => constitutionTemplate(root), report);
  ensureFolder(root, "keel/specs", report, inside);
  ensureFolder(root, "keel/changes", report, inside);
  ensureGitignore(root, report, inside);
  ensureMergeDriver(root, report, inside, options);
  return report;
}

/** Creates `rel` with `content()` when nothing (not even a dangling link) is at that path; otherwise keeps it. */
function ensureFile(
  root: string,
  rel: string,
  content: () => string,
  report: InitReport,
  check?: (abs: string, rel: string) => InitWarning | null,
): void {
  const abs = join(root, rel);
  if (lstatOrNull(abs) === null) {
    write(abs, rel, content());
    report.created.push(rel);
    return;
  }
  report.kept.push(rel);
  if (!isFile(abs)) {
    report.warnings.push({
      file: rel,
      message: `${rel} exists but is not a readable file; left alone`,
      hint: "remove or rename it, then run `keel init` again to recreate it",
    });
    return;
  }
  const warning = check?.(abs, rel);
  if (warning) report.warnings.push(warning);
}

/** An existing keel.yaml is parsed exactly as every command parses it; a bad one is reported, never rewritten. */
function checkConfig(abs: string, rel: string): InitWarning | null {
  try {
    const decoded = decodeSource(readFileSync(abs));
    if (!decoded.ok) {
      const { message, hint, line, col } = decoded.problem;
      return { file: rel, line, col, message: `${message}; left alone`, hint };
    }
    parseConfig(decoded.text);
    return null;
  } catch (e) {
    if (e instanceof KeelError) {
      return {
        file: rel,
        ...(e.location ? { line: e.location.line, col: e.location.col } : {}),
        message: `${e.message}; left alone`,
        hint: e.hint,
      };
    }
    return {
      file: rel,
      message: `cannot read ${rel} (${(e as NodeJS.ErrnoException).code ?? String(e)}); left alone`,
      hint: "check the file's permissions",
    };
  }
}

/** A folder git keeps: created with a `.gitkeep`; an existing empty one gets a `.gitkeep`; anything else is kept. */
function ensureFolder(root: string, rel: string, report: InitReport, inside: (abs: string) => boolean): void {
  const abs = join(root, rel);
  if (lstatOrNull(abs) === null) {
    write(join(abs, ".gitkeep"), `${rel}/.gitkeep`, "");
    report.created.push(`${rel}/`);
    return;
  }
  if (!isDirectory(abs) || !inside(abs)) {
    report.kept.push(rel);
    report.warnings.push({
      file: rel,
      message: isDirectory(abs)
        ? `${rel} links to a folder outside the project; left alone`
        : `${rel} exists but is not a folder; left alone`,
      hint: `move it out of the way and run \`keel init\` again to create ${rel}/`,
    });
    return;
  }
  if (readdirSync(abs).length === 0) {
    write(join(abs, ".gitkeep"), `${rel}/.gitkeep`, "");
    report.created.push(`${rel}/.gitkeep`);
    return;
  }
  report.kept.push(`${rel}/`);
}

const KEEL_ENTRY = `${STATE_DIR}/`;

// @req INIT-4
/** Adds `.keel/` to `.gitignore` unless a line already ignores it; the file's existing bytes are kept as they are. */
function ensureGitignore(root: string, report: InitReport, inside: (abs: string) => boolean): void {
  const rel = ".gitignore";
  const abs = join(root, rel);
  const st = lstatOrNull(abs);
  if (st === null) {
    write(abs, rel, `${KEEL_ENTRY}\n`);
    report.created.push(rel);
    return;
  }
  // A symbolic link is updated at its target, and only when that target is a file inside the project.
  if (!isFile(abs) || !inside(abs)) {
    report.kept.push(rel);
    report.warnings.push({
      file: rel,
      message: `${rel} is not a file inside the project; left alone, so ${KEEL_ENTRY} is not ignored`,
      hint: `add the line \`${KEEL_ENTRY}\` to your ignore rules by hand`,
    });
    return;
  }
  const target = realpathSync(abs);
  const bytes = readFileSync(target);
  if (gitignoreIgnoresKeel(bytes.toString("utf8"))) {
    report.kept.push(rel);
    return;
  }
  // The new line uses the file's own line ending (that of its first line); LF for a file with none.
  const lf = bytes.indexOf(0x0a);
  const eol = lf > 0 && bytes[lf - 1] === 0x0d ? "\r\n" : lf === -1 && bytes.includes(0x0d) ? "\r" : "\n";
  const last = bytes[bytes.length - 1];
  const needsNewline = bytes.length > 0 && last !== 0x0a && !(eol === "\r" && last === 0x0d);
  const addition = Buffer.from(`${needsNewline ? eol : ""}${KEEL_ENTRY}${eol}`, "utf8");
  const mode = statSync(target).mode & 0o7777;
  write(target, rel, Buffer.concat([bytes, addition]));
  if ((statSync(target).mode & 0o7777) !== mode) chmodSync(target, mode);
  report.updated.push(rel);
}

export const MERGE_DRIVER_NAME = "Keel: merge specs requirement by requirement";

function git(root: string, args: string[]): string | null {
  return gitOutput(root, args)?.trim() ?? null;
}

/**
 * The `.gitattributes` lines that send spec files, for the layouts present, and audit segments (which a merge
 * must keep one chain: core/changes/driver.ts) to Keel's merge driver.
 */
export function mergeAttributeLines(root: string): string[] {
  const lines = ["keel/specs/**/spec.md merge=keel", "keel/audit/*.jsonl merge=keel"];
  if (isDirectory(join(root, "openspec", "specs")) || isDirectory(join(root, "openspec", "changes"))) {
    lines.push("openspec/specs/**/spec.md merge=keel");
  }
  return lines;
}

// @req CHG-10
/**
 * In a git work tree, registers Keel's merge driver for spec files: a `.gitattributes` line per layout (a
 * pattern that already names a merge driver is left as the user set it) and `merge.keel.driver` / `.name` in
 * the repository's git config (`ensureDriverConfig`). Outside git: nothing.
 */
function ensureMergeDriver(
  root: string,
  report: InitReport,
  inside: (abs: string) => boolean,
  options: InitOptions,
): void {
  if (git(root, ["rev-parse", "--is-inside-work-tree"]) !== "true") return;
  const rel = ".gitattributes";
  const abs = join(root, rel);
  const wanted = mergeAttributeLines(root);
  const st = lstatOrNull(abs);
  if (st === null) {
    write(
      abs,
      rel,
      `# Spec files merge requirement by requirement, audit segments as one chain (keel init; docs/cli.md#merge-driver)\n${wanted.join("\n")}\n`,
    );
    report.created.push(rel);
  } else if (!isFile(abs) || !inside(abs)) {
    report.kept.push(rel);
    report.warnings.push({
      file: rel,
      message: `${rel} is not a file inside the project; left alone, so Keel's merge driver is not registered for spec files`,
      hint: `add the lines \`${wanted.join("` and `")}\` to your git attributes by hand`,
    });
  } else {
    const target = realpathSync(abs);
    const bytes = readFileSync(target);
    const text = bytes.toString("utf8");
    const patterns = new Set(
      text
        .split(/\r?\n|\r/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#") && /(^|\s)-?merge(=|\s|$)/.test(l))
        .map((l) => l.split(/\s+/)[0]),
    );
    const missing = wanted.filter((l) => !patterns.has(l.split(" ")[0]));
    if (missing.length === 0) report.kept.push(rel);
    else {
      const lf = bytes.indexOf(0x0a);
      const eol = lf > 0 && bytes[lf - 1] === 0x0d ? "\r\n" : "\n";
      const needsNewline = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
      const mode = statSync(target).mode & 0o7777;
      write(
        target,
        rel,
        Buffer.concat([bytes, Buffer.from(`${needsNewline ? eol : ""}${missing.join(eol)}${eol}`, "utf8")]),
      );
      if ((statSync(target).mode & 0o7777) !== mode) chmodSync(target, mode);
      report.updated.push(rel);
    }
  }
  ensureDriverConfig(root, report, options);
}

const DRIVER_CONFIG = "git config merge.keel";

// @req TRU-11
/**
 * Sets `merge.keel.driver` (the command for the running Keel, see `driverCommand`) and `merge.keel.name` in
 * the repository's own git config, then runs the driver once to see that git can start it. An existing
 * driver is kept: one of the user's is left as they set it (with a warning), and one Keel wrote earlier is
 * kept while it starts and replaced when it cannot (e.g. a plain `keel` with Keel now only a project
 * dependency), so a working setup is never degraded and a broken one is repaired.
 */
function ensureDriverConfig(root: string, report: InitReport, options: InitOptions): void {
  const { keel, env = process.env } = options;
  const top = git(root, ["rev-parse", "--show-toplevel"]) ?? root;
  const wanted = keel ? driverCommand(top, keel, env) : PLAIN_DRIVER;
  const set = (key: string, value: string): boolean => {
    if (git(root, ["config", key, value]) !== null) return true;
    report.warnings.push({
      file: DRIVER_CONFIG,
      message: `could not set ${key} in the repository's git config`,
      hint: `run \`git config ${key} ${shellWord(value)}\` by hand`,
    });
    return false;
  };
  const current = git(root, ["config", "--get", "merge.keel.driver"]) || null;
  const earlierKeel = current !== null && current !== wanted && isKeelDriver(current);
  // Probed before it is replaced, so that a Keel driver that starts is kept (and not probed twice).
  const earlierProblem = earlierKeel ? driverProblem(top, current, env) : null;
  const driver = current === null || earlierProblem !== null ? wanted : current;
  if (current !== null && current !== wanted && !earlierKeel) {
    report.warnings.push({
      file: DRIVER_CONFIG,
      message: `merge.keel.driver is already set to "${current}"; left alone`,
      hint: `Keel's driver is \`${wanted}\`; unset the key and run \`keel init\` again to use it`,
    });
  }
  let changed = false;
  if (driver !== current) {
    if (!set("merge.keel.driver", driver)) return;
    changed = true;
  }
  if (!git(root, ["config", "--get", "merge.keel.name"])) {
    if (!set("merge.keel.name", MERGE_DRIVER_NAME)) return;
    changed = true;
  }
  report.mergeDriver = driver;
  if (changed) report.updated.push(DRIVER_CONFIG);
  else if (driver === wanted || isKeelDriver(driver)) report.kept.push(DRIVER_CONFIG);
  const problem = earlierKeel && driver === current ? null : driverProblem(top, driver, env);
  if (problem !== null) report.warnings.push(driverWarning(driver, problem));
}

function driverWarning(driver: string, problem: string): InitWarning {
  return {
    file: DRIVER_CONFIG,
    message: `git cannot start the merge driver \`${driver}\` (${problem}), so it merges spec files line by line`,
    hint: isKeelDriver(driver)
      ? "install Keel as a project dependency (`npm install --save-dev keel`) and run `npx keel init`, or put `keel` on PATH and run `keel init` again"
      : "fix merge.keel.driver, or unset it (`git config --unset merge.keel.driver`) and run `keel init` again to register Keel's",
  };
}

/**
 * Does a `.gitignore` already ignore the `.keel` folder at its own level? The last matching line wins, as in
 * git, so a later `!.keel/` re-includes it. Only patterns that name the folder itself are recognised.
 */
export function gitignoreIgnoresKeel(text: string): boolean {
  const names = new Set([".keel", "/.keel", "**/.keel", ".keel/*", "/.keel/*", ".keel/**", "/.keel/**"]);
  let ignored = false;
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n|\r/)) {
    // Trailing spaces are not significant unless escaped; a trailing "/" only restricts the match to folders.
    let line = raw.replace(/(?<!\\)\s+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    if (negated) line = line.slice(1);
    if (line.endsWith("/") && !line.endsWith("*/")) line = line.slice(0, -1);
    if (names.has(line)) ignored = !negated;
  }
  return ignored;
}

function write(abs: string, rel: string, data: string | Buffer): void {
  try {
    writeFileAtomic(abs, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unknown error";
    throw projectError(
      `cannot write ${rel} (${code})`,
      code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? "make the folder writable, or run `keel init` where you may write"
        : "check the path; files Keel already wrote are complete, so running `keel init` again finishes the job",
    );
  }
}

function lstatOrNull(p: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Templates

/** A YAML string scalar: plain when that is unambiguous, JSON-quoted (JSON strings are valid YAML) otherwise. */
export function yamlString(s: string): string {
  const plain = /^[A-Za-z0-9](?:[A-Za-z0-9 ._/-]*[A-Za-z0-9._/-])?$/.test(s);
  const special = /^(?:true|false|null|yes|no|on|off|y|n|~|[-+]?[0-9][0-9._eE+-]*|\.inf|\.nan)$/i.test(s);
  return plain && !special ? s : JSON.stringify(s);
}

// @req INIT-2
export function configTemplate(projectName: string): string {
  return `# Keel project configuration. Every key is optional; a missing key takes the default shown in its comment.
# Reference: docs/cli.md#configuration. Keel refuses an unknown key or a wrong type (exit code 3, with the line).

# Schema version of this file. Only 1 exists; any other value is refused.
version: 1

# Project name, shown by \`keel status\`. Default: null (no name).
project: ${yamlString(projectName)}

# How \`keel validate\` judges specs and changes.
validate:
  # When true, \`keel validate\` also fails on warnings (exit code 1), as if --strict were always given.
  # Default: false.
  strict: false

  # Words and phrases the clarity lint reports as vague (rule clarity/vague-term), matched case-insensitively
  # as whole words. Default: the list below. An empty list ([]) reports none.
  vague_terms:
${DEFAULT_VAGUE_TERMS.map((t) => `    - ${yamlString(t)}`).join("\n")}

  # Per-rule severity overrides: a rule ID (as printed in brackets by \`keel validate\`) mapped to
  # error, warning, info or off. Default: {} (every rule at its documented severity). For example:
  #   rules:
  #     clarity/compound-requirement: info
  #     openspec/requirement-too-long: off
  rules: {}

# Who is recorded as the author of what Keel writes.
actors:
  # Actor recorded as provenance when a command is not told who is acting (neither --as nor KEEL_ACTOR).
  # Default: null (no actor recorded).
  default: null
  # Role of each actor: owner | reviewer | agent | read-only. Unlisted humans are reviewers, others agents.
  roles: {}

# What agents may do without a human, per capability (see docs/cli.md#governance). Levels:
# propose-only | apply-approved | auto-approve-inferred. Approving is otherwise a human act.
policy:
  # The level where no area matches.
  default: propose-only
  # Areas, first match wins, e.g. - { match: "docs-*", agents: auto-approve-inferred }
  areas: []

# The untrusted-text scanner (rules security/*; see docs/security.md). Severities go in validate.rules.
security:
  # Hosts a URL in agent-written or inferred text may point to without a security/external-url finding;
  # an entry allows its subdomains, a leading dot a whole suffix. Added to the built-in list
  # (example.com/.net/.org, .example, .test, .invalid, localhost, 127.0.0.1, [::1]). Default: [].
  allowed_hosts: []
  # Extra instruction-like patterns (JavaScript regexes, case-insensitive). Default: [].
  instruction_patterns: []
  # When false, only instruction_patterns are used, not the built-in list. Default: true.
  default_instruction_patterns: true
  # Whether human-written (and unattributed) text is trusted; false treats all text as untrusted. Default: true.
  trust_human_approved: true

# Verification gates by name, each the shell command it runs, e.g. \`test: npm test\`, or a mapping
# { run, timeout (default 10m), parallel (default true), cwd }. \`keel verify\` runs them and \`keel tasks done\`
# needs them passing (see docs/cli.md#verify). A constitution principle's Gate: command counts as wired
# (\`keel analyze\`) when it is one of these, a package.json script or a line of a CI workflow. Default: {} (none).
gates: {}

# Acceptance commands by capability name or requirement ID (a command or a list), run by
# \`keel verify --req\` and \`--task\` for the requirements concerned, e.g. \`PAY-4: npm test -- refunds\`.
# Default: {} (none).
acceptance: {}
`;
}

interface Gates {
  test: string | null;
  check: string | null;
}

/** Gate commands for the constitution, from the build files the repository already has. */
export function detectGates(root: string): Gates {
  const has = (name: string) => existsSync(join(root, name));
  if (has("package.json")) {
    let scripts: Record<string, unknown> = {};
    try {
      const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        scripts?: Record<string, unknown>;
      };
      scripts = pkg.scripts && typeof pkg.scripts === "object" ? pkg.scripts : {};
    } catch {
      // An unreadable package.json gives no gates; the template still works.
    }
    const test =
      typeof scripts.test === "string" && !scripts.test.includes("no test specified") ? "npm test" : null;
    const check =
      typeof scripts.lint === "string"
        ? "npm run lint"
        : typeof scripts.build === "string"
          ? "npm run build"
          : null;
    return { test, check };
  }
  if (has("Cargo.toml")) return { test: "cargo test", check: "cargo clippy -- -D warnings" };
  if (has("go.mod")) return { test: "go test ./...", check: "go vet ./..." };
  if (has("pyproject.toml") || has("setup.py")) return { test: "pytest", check: null };
  if (has("Makefile")) {
    let make = "";
    try {
      make = readFileSync(join(root, "Makefile"), "utf8");
    } catch {
      // No targets known.
    }
    return {
      test: /^test:/m.test(make) ? "make test" : null,
      check: /^lint:/m.test(make) ? "make lint" : null,
    };
  }
  return { test: null, check: null };
}

// @req INIT-3
export function constitutionTemplate(root: string): string {
  const gates = detectGates(root);
  const gate = (cmd: string | null, what: string) =>
    cmd
      ? `\nGate: \`${cmd}\`\n`
      : `\n<!-- keel init found no command that ${what}. Name yours on a line of its own, e.g. Gate: \`make test\` -->\n`;
  return `# Constitution

The principles every contributor, human or agent, follows in this project. Keel hands them to agents with
every task, and a principle's \`Gate:\` line names the command that enforces it. Edit them to fit the
project; keep the IDs stable, because requirements, reviews and tasks refer to them.

## Principles

### Principle: Intent before code {#P-1}
A change in behaviour starts as a Keel change in \`keel/changes/<change-id>/\`: a proposal that says why,
and delta specs that say what. Code follows approved intent, and a pull request that changes behaviour
without the matching spec change is incomplete.

Gate: \`keel validate --strict\`

### Principle: Every requirement is verified {#P-2}
Each requirement states one obligation with SHALL or MUST and has at least one scenario with an
observable THEN. Work on an approved requirement is done when an automated test exercises its scenarios
and passes.
${gate(gates.test, "runs the test suite")}
### Principle: Humans approve intent {#P-3}
Agents and tools may draft and propose requirements; they record it in the marker line
(\`origin: agent\`). Moving a requirement or a change to approved is a decision a person makes and signs.

### Principle: Small, reviewable changes {#P-4}
A change covers one capability where it can and stays small enough to review in one sitting. Two open
changes that touch the same requirement are reconciled before either is merged.

### Principle: Secure by default {#P-5}
Input is validated at every boundary, and bad input gets a clear error, never a crash. Secrets never
enter the repository, specs included. Every new dependency is a deliberate, reviewed decision.

### Principle: The main branch stays releasable {#P-6}
The default branch always builds and passes its checks. A failing check is fixed or reverted before
other work is merged on top of it.
${gate(gates.check, "builds or lints the code")}
## Governance
This constitution changes through a Keel change, reviewed like any other. A principle that no longer
applies is marked deprecated rather than deleted, and principle IDs are never reused or renumbered.
`;
}
