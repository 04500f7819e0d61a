// Constitution principles whose gate is not wired. A principle's `Gate:` names a command; it is *wired* when
// something runs it: a gate of `keel/keel.yaml` (`gates: {name: command}`), a package.json script (the gate runs
// the script, as `npm test` or `npm run lint` do, or the script's command contains the gate), or a line of a CI
// file (GitHub Actions, GitLab, CircleCI, Azure Pipelines, Bitbucket, Travis, Buildkite, Jenkins, or a script
// in `.ci/`). A principle with no gate at all is reported too, at a lower severity.
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Constitution, Finding, Principle } from "../../model/types.js";
import type { KeelConfig } from "../../workspace/config.js";
import { isWithin } from "../../workspace/paths.js";

export const GATE_NOT_WIRED = "analyze/gate-not-wired";
export const PRINCIPLE_WITHOUT_GATE = "analyze/principle-without-gate";

/** Single CI files, and folders whose files (one level, of the given extensions) are CI definitions. */
const CI_FILES = [
  ".gitlab-ci.yml",
  ".circleci/config.yml",
  "azure-pipelines.yml",
  "bitbucket-pipelines.yml",
  ".travis.yml",
  "Jenkinsfile",
];
const CI_DIRS: Array<{ dir: string; ext: RegExp }> = [
  { dir: ".github/workflows", ext: /\.ya?ml$/ },
  { dir: ".buildkite", ext: /\.ya?ml$/ },
  { dir: ".ci", ext: /(?:)/ },
];

/** Runner prefixes that run a package.json script by name. */
const SCRIPT_RUNNERS: Array<{ prefix: string[]; implicit?: string }> = [
  { prefix: ["npm", "run"] },
  { prefix: ["npm", "run-script"] },
  { prefix: ["npm", "test"], implicit: "test" },
  { prefix: ["npm", "t"], implicit: "test" },
  { prefix: ["npm", "start"], implicit: "start" },
  { prefix: ["pnpm", "run"] },
  { prefix: ["pnpm"] },
  { prefix: ["yarn", "run"] },
  { prefix: ["yarn"] },
  { prefix: ["bun", "run"] },
];

export function normaliseCommand(command: string): string {
  return command.trim().replace(/\s+/g, " ");
}

/** Whether `needle` occurs in `haystack` as a whole command (bounded by the text's edges or shell punctuation). */
export function containsCommand(haystack: string, needle: string): boolean {
  const h = normaliseCommand(haystack);
  const n = normaliseCommand(needle);
  if (n === "") return false;
  const edge = /[\s;&|()`"'$]/;
  for (let i = h.indexOf(n); i !== -1; i = h.indexOf(n, i + 1)) {
    const before = i === 0 ? "" : (h[i - 1] as string);
    const after = i + n.length >= h.length ? "" : (h[i + n.length] as string);
    if ((before === "" || edge.test(before)) && (after === "" || edge.test(after))) return true;
  }
  return false;
}

interface WiringContext {
  gates: Record<string, string>;
  scripts: Record<string, string>;
  ci: Array<{ file: string; lines: string[] }>;
}

/** Where the gate is wired, or null. */
export function wiredBy(gate: string, ctx: WiringContext): string | null {
  const g = normaliseCommand(gate);
  for (const [name, command] of Object.entries(ctx.gates)) {
    if (name === g || normaliseCommand(command) === g) return `keel/keel.yaml gates.${name}`;
  }
  const words = g.split(" ");
  for (const runner of SCRIPT_RUNNERS) {
    if (!runner.prefix.every((w, i) => words[i] === w)) continue;
    const name = runner.implicit ?? words[runner.prefix.length];
    if (name !== undefined && Object.hasOwn(ctx.scripts, name)) return `package.json script "${name}"`;
  }
  for (const [name, body] of Object.entries(ctx.scripts)) {
    if (containsCommand(body, g)) return `package.json script "${name}"`;
  }
  for (const { file, lines } of ctx.ci) {
    const i = lines.findIndex((l) => containsCommand(l, g));
    if (i !== -1) return `${file}:${i + 1}`;
  }
  return null;
}

export function gateFindings(root: string, constitution: Constitution | null, config: KeelConfig): Finding[] {
  if (!constitution || constitution.principles.length === 0) return [];
  const ctx: WiringContext = { gates: config.gates, scripts: packageScripts(root), ci: ciFiles(root) };
  const out: Finding[] = [];
  for (const p of constitution.principles) {
    if (p.gate === null) {
      out.push({
        rule: PRINCIPLE_WITHOUT_GATE,
        severity: "info",
        file: constitution.file,
        line: p.span.start.line,
        col: p.span.start.col,
        message: `principle ${p.id} ("${p.title}") names no gate: nothing enforces it`,
        hint: "if a command can check it, name it on a line such as Gate: `npm test`",
        target: p.id,
      });
      continue;
    }
    if (wiredBy(p.gate, ctx) !== null) continue;
    out.push({
      rule: GATE_NOT_WIRED,
      severity: "warning",
      file: constitution.file,
      line: gateLine(p),
      col: 1,
      message: `the gate of principle ${p.id} ("${p.title}"), \`${p.gate}\`, is not wired: no keel.yaml gate, package.json script or CI file runs it`,
      hint: "run it in CI, make it a package.json script, or declare it under `gates:` in keel/keel.yaml",
      target: p.id,
    });
  }
  return out;
}

function gateLine(p: Principle): number {
  const i = p.raw.split("\n").findIndex((l) => /^\s*Gate:\s*`/i.test(l));
  return p.span.start.line + Math.max(i, 0);
}

/** A regular file of the project, read as text; null if absent, not a file, or (through a link) outside it. */
function readProjectFile(root: string, rel: string): string | null {
  try {
    const real = realpathSync(join(root, rel));
    if (!isWithin(realpathSync(root), real) || !statSync(real).isFile()) return null;
    return readFileSync(real, "utf8");
  } catch {
    return null;
  }
}

function packageScripts(root: string): Record<string, string> {
  const text = readProjectFile(root, "package.json");
  if (text === null) return {};
  try {
    const scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    if (!scripts || typeof scripts !== "object" || Array.isArray(scripts)) return {};
    return Object.fromEntries(
      Object.entries(scripts as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === "string",
      ),
    );
  } catch {
    return {}; // invalid JSON: no scripts to wire a gate
  }
}

function ciFiles(root: string): WiringContext["ci"] {
  const rels = [...CI_FILES];
  for (const { dir, ext } of CI_DIRS) {
    try {
      for (const name of readdirSync(join(root, dir)).sort()) if (ext.test(name)) rels.push(`${dir}/${name}`);
    } catch {
      // absent folder
    }
  }
  const out: WiringContext["ci"] = [];
  for (const rel of rels) {
    const text = readProjectFile(root, rel);
    if (text !== null) out.push({ file: rel, lines: text.split(/\r\n?|\n/) });
  }
  return out;
}
