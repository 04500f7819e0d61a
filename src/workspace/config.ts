// keel/keel.yaml: the project configuration. Validated at the boundary; a bad file stops with its line.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { isMap, parseDocument } from "yaml";
import type { Severity } from "../model/types.js";
import { KeelError, projectError } from "./errors.js";
import { memoUntilChange } from "./freshness.js";
import { isWithin, projectRelativeDir } from "./paths.js";
import { decodeSource } from "./read.js";
import { IMPORTABLE, type ProjectRoot } from "./root.js";
import {
  type AgentEntry,
  defaultRunConfig,
  parseAgents,
  parseRunConfig,
  type RunConfig,
} from "./run-config.js";
import { defaultTriggers, parseTriggers, type TriggersConfig } from "./triggers-config.js";

export type RuleSetting = Severity | "off";

/** What an actor may do: owner (everything), reviewer (approve, apply), agent (propose), read-only. */
export const ROLES = ["owner", "reviewer", "agent", "read-only"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What agents may do without a human, per capability: only propose; apply changes a human approved; or also
 * approve and apply changes whose requirements are all marked inferred (for low-risk areas).
 */
export const POLICY_LEVELS = ["propose-only", "apply-approved", "auto-approve-inferred"] as const;
export type PolicyLevel = (typeof POLICY_LEVELS)[number];

/**
 * What happens to a task `keel run` got green in an area: it lands by itself (`auto`), or waits in the review queue
 * for a human (`review`, see `keel run review`).
 */
export const LAND_LEVELS = ["auto", "review"] as const;
export type LandLevel = (typeof LAND_LEVELS)[number];

/** One `policy.areas` entry: a glob over capability names and what agents may do there. */
export interface PolicyArea {
  match: string;
  agents: PolicyLevel;
  /** Null: the policy's `land`. */
  land: LandLevel | null;
  /** Position in `policy.areas` (0-based) and line in keel.yaml, so a refusal can name the rule. */
  index: number;
  line: number;
}

export interface PolicyConfig {
  default: PolicyLevel;
  /** Whether green `keel run` work lands by itself where no area says otherwise. */
  land: LandLevel;
  /** Line of `policy.default` in keel.yaml, or null when it is not written (the built-in default). */
  defaultLine: number | null;
  /** Checked in order; the first whose `match` fits the capability decides. */
  areas: PolicyArea[];
}

export interface KeelConfig {
  version: 1;
  project: string | null;
  validate: {
    strict: boolean;
    vagueTerms: string[];
    rules: Record<string, RuleSetting>;
  };
  actors: { default: string | null; roles: Record<string, Role> };
  policy: PolicyConfig;
  /**
   * Verification gates by name: the shell command each runs (`test: npm test`). A constitution principle's
   * `Gate:` command is *wired* when it is one of these (or a package.json script, or a CI workflow line).
   */
  gates: Record<string, string>;
  /** The same gates with their run settings (timeout, parallel, folder), in keel.yaml's order. */
  gateSpecs: Record<string, GateSpec>;
  /**
   * Acceptance commands by capability name or requirement ID (`acceptance:` in keel.yaml), each a gate run by
   * `keel verify --req` and `--task` for the requirements concerned.
   */
  acceptance: Record<string, GateSpec[]>;
  /** keel.yaml `security:`: what the untrusted-text scanner allows and looks for (see core/scan/policy.ts). */
  security: SecurityConfig;
  /** keel.yaml `run:`: how `keel run` works the queue (src/run/). */
  run: RunConfig;
  /** keel.yaml `agents:`: the coding agents `keel run` can start, by name. */
  agents: Record<string, AgentEntry>;
  /** keel.yaml `triggers:`: the issue-tracker webhooks `keel serve` accepts. */
  triggers: TriggersConfig;
  /**
   * keel.yaml `store:`: where the shared operational state lives. Null: the embedded store, `.keel/state.db`; a
   * `postgres://` URL: team mode (store/postgres/). `KEEL_STORE_URL` overrides it (store/select.ts).
   */
  store: string | null;
}

/** The `security:` section as written; the scanner adds its built-in hosts and patterns. */
export interface SecurityConfig {
  /** Hosts added to the built-in allow-list (`acme.com` allows it and its subdomains). */
  allowedHosts: string[];
  /** Instruction-like patterns (JavaScript regexes, case-insensitive) added to the built-in list. */
  instructionPatterns: string[];
  /** False (`default_instruction_patterns: false`): the built-in patterns are dropped, only these are used. */
  defaultInstructionPatterns: boolean;
  trustHumanApproved: boolean;
}

/**
 * The flags every instruction-like pattern is compiled with, here so that a bad one is refused at load. Not `u`:
 * V8 runs these case-insensitive word patterns 6 to 15 times slower in Unicode mode, and the phrases are ASCII.
 */
export const INSTRUCTION_PATTERN_FLAGS = "gi";

/** How one gate runs: a `gates:` entry, an `acceptance:` command, or (with the defaults) any other command. */
export interface GateSpec {
  /** The shell command, run with `sh -c`. */
  run: string;
  /** Milliseconds before the gate is killed; null: the default, DEFAULT_GATE_TIMEOUT_MS. */
  timeoutMs: number | null;
  /** False: the gate runs alone, after the parallel ones (it needs the machine, a port, a database…). */
  parallel: boolean;
  /** Project-relative folder it runs in, `/`-separated; "." is the project root. */
  cwd: string;
  /** Line in keel/keel.yaml, or 0 when the gate does not come from it. */
  line: number;
}

/** Ten minutes: a gate's timeout unless keel.yaml or `--timeout` says otherwise. */
export const DEFAULT_GATE_TIMEOUT_MS = 10 * 60_000;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration with its unit (`500ms`, `90s`, `10m`, `1.5h`) in milliseconds, or null when it is not one. */
export function parseGateDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[m[2] as string] as number));
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

export const DEFAULT_VAGUE_TERMS = [
  "fast",
  "quickly",
  "user-friendly",
  "intuitive",
  "as appropriate",
  "etc.",
  "robust",
  "seamless",
  "easy",
  "simple",
  "efficient",
  "flexible",
  "as needed",
  "and/or",
];

export const CONFIG_FILE = "keel/keel.yaml";

export function defaultConfig(): KeelConfig {
  return {
    version: 1,
    project: null,
    validate: { strict: false, vagueTerms: [...DEFAULT_VAGUE_TERMS], rules: {} },
    actors: { default: null, roles: {} },
    policy: { default: "propose-only", land: "auto", defaultLine: null, areas: [] },
    gates: {},
    gateSpecs: {},
    acceptance: {},
    security: {
      allowedHosts: [],
      instructionPatterns: [],
      defaultInstructionPatterns: true,
      trustHumanApproved: true,
    },
    run: defaultRunConfig(),
    agents: {},
    triggers: defaultTriggers(),
    store: null,
  };
}

// @req VAL-18
/**
 * The project's keel.yaml, checked; a process with a watcher keeps the parsed file until the watcher sees a change
 * (each caller gets its own copy: small, and some adjust theirs).
 */
export function loadConfig(project: ProjectRoot): KeelConfig {
  return structuredClone(memoUntilChange(project.root, "config", () => readConfig(project)));
}

function readConfig(project: ProjectRoot): KeelConfig {
  const path = join(project.root, CONFIG_FILE);
  if (!existsSync(path)) return defaultConfig();
  const at = { file: CONFIG_FILE, line: 1, col: 1 };
  let bytes: Buffer;
  try {
    const real = realpathSync(path);
    const rootReal = realpathSync(project.root);
    if (!isWithin(rootReal, real)) {
      throw projectError(
        `${CONFIG_FILE} is a symbolic link out of the project; Keel does not follow it`,
        "copy the file into the project",
        at,
      );
    }
    bytes = readFileSync(real);
  } catch (e) {
    if (e instanceof KeelError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw projectError(
      `cannot read ${CONFIG_FILE} (${code})`,
      code === "EISDIR" ? `${CONFIG_FILE} must be a file` : "check the file's permissions",
      at,
    );
  }
  // Same checks as every source file: a binary or mis-encoded config is refused with its position,
  // not decoded into replacement characters.
  const decoded = decodeSource(bytes);
  if (!decoded.ok) {
    const { message, hint, line, col } = decoded.problem;
    throw projectError(message, hint, { file: CONFIG_FILE, line, col });
  }
  return parseConfig(decoded.text);
}

export function parseConfig(text: string): KeelConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw projectError(
      // The library appends " at line N, column M:"; the location already carries it.
      `invalid YAML in ${CONFIG_FILE}: ${(err.message.split("\n")[0] as string).replace(/ at line \d+, column \d+:?$/, "")}`,
      "fix the YAML syntax; see docs/cli.md#configuration",
      { file: CONFIG_FILE, line: pos?.line ?? 1, col: pos?.col ?? 1 },
    );
  }
  const lineOf = (path: Array<string | number>): number => {
    const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
    const offset = node?.range?.[0] ?? 0;
    return text.slice(0, offset).split("\n").length;
  };
  const bad = (path: Array<string | number>, what: string): never => {
    const name = path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
    throw projectError(`\`${name}\` ${what}`, "see docs/cli.md#configuration for every key", {
      file: CONFIG_FILE,
      line: lineOf(path),
      col: 1,
    });
  };
  if (doc.contents !== null && !isMap(doc.contents)) bad([], "must be a mapping of keys");
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const config = defaultConfig();
  for (const key of Object.keys(raw)) {
    if (
      ![
        "version",
        "project",
        "validate",
        "actors",
        "policy",
        "gates",
        "acceptance",
        "imported",
        "security",
        "run",
        "agents",
        "triggers",
        "store",
        "roots",
      ].includes(key)
    )
      bad([key], "is not a known key");
  }
  if (raw.version !== undefined && raw.version !== 1) bad(["version"], "must be 1");
  // Read by workspace/root.ts when the project is found; checked here so that a mistake is reported.
  if (raw.imported !== undefined && raw.imported !== null) {
    if (!Array.isArray(raw.imported))
      bad(["imported"], `must be a list of layouts (${IMPORTABLE.join(", ")})`);
    (raw.imported as unknown[]).forEach((l, i) => {
      if (!(IMPORTABLE as readonly unknown[]).includes(l))
        bad(["imported", i], `names no layout keel import converts (${IMPORTABLE.join(", ")})`);
    });
  }
  if (raw.project !== undefined && raw.project !== null) {
    if (typeof raw.project !== "string") bad(["project"], "must be a string");
    config.project = raw.project as string;
  }
  const v = raw.validate;
  if (v !== undefined && v !== null) {
    if (typeof v !== "object" || Array.isArray(v)) bad(["validate"], "must be a mapping");
    const vo = v as Record<string, unknown>;
    for (const key of Object.keys(vo)) {
      if (!["strict", "vague_terms", "rules"].includes(key)) bad(["validate", key], "is not a known key");
    }
    if (vo.strict !== undefined) {
      if (typeof vo.strict !== "boolean") bad(["validate", "strict"], "must be true or false");
      config.validate.strict = vo.strict as boolean;
    }
    if (vo.vague_terms !== undefined) {
      if (
        !Array.isArray(vo.vague_terms) ||
        !vo.vague_terms.every((t) => typeof t === "string" && t.trim() !== "")
      ) {
        bad(["validate", "vague_terms"], "must be a list of non-empty strings");
      }
      config.validate.vagueTerms = (vo.vague_terms as string[]).map((t) => t.trim());
    }
    if (vo.rules !== undefined && vo.rules !== null) {
      if (typeof vo.rules !== "object" || Array.isArray(vo.rules))
        bad(["validate", "rules"], "must be a mapping");
      for (const [rule, setting] of Object.entries(vo.rules as Record<string, unknown>)) {
        if (!["error", "warning", "info", "off"].includes(setting as string)) {
          bad(["validate", "rules", rule], "must be one of error, warning, info, off");
        }
        config.validate.rules[rule] = setting as RuleSetting;
      }
    }
  }
  const a = raw.actors;
  if (a !== undefined && a !== null) {
    if (typeof a !== "object" || Array.isArray(a)) bad(["actors"], "must be a mapping");
    const ao = a as Record<string, unknown>;
    for (const key of Object.keys(ao))
      if (key !== "default" && key !== "roles") bad(["actors", key], "is not a known key");
    if (ao.roles !== undefined && ao.roles !== null) {
      if (typeof ao.roles !== "object" || Array.isArray(ao.roles))
        bad(["actors", "roles"], "must be a mapping of actor to role");
      for (const [name, role] of Object.entries(ao.roles as Record<string, unknown>)) {
        if (!(ROLES as readonly unknown[]).includes(role)) {
          bad(
            ["actors", "roles", name],
            `has unknown role ${JSON.stringify(role)}; use one of ${ROLES.join(", ")}`,
          );
        }
        config.actors.roles[name] = role as Role;
      }
    }
    if (ao.default !== undefined && ao.default !== null) {
      if (typeof ao.default !== "string") bad(["actors", "default"], "must be a string");
      config.actors.default = ao.default as string;
    }
  }
  if (raw.policy !== undefined && raw.policy !== null) {
    config.policy = parsePolicy(raw.policy, bad, lineOf);
  }
  const g = raw.gates;
  if (g !== undefined && g !== null) {
    if (typeof g !== "object" || Array.isArray(g))
      bad(["gates"], "must be a mapping of gate name to command");
    for (const [name, value] of Object.entries(g as Record<string, unknown>)) {
      if (name.trim() === "") bad(["gates", name], "needs a non-empty name");
      const spec = parseGateSpec(value, ["gates", name], bad, lineOf);
      config.gates[name] = spec.run;
      config.gateSpecs[name] = spec;
    }
  }
  const acc = raw.acceptance;
  if (acc !== undefined && acc !== null) {
    if (typeof acc !== "object" || Array.isArray(acc))
      bad(["acceptance"], "must be a mapping of capability name or requirement ID to command(s)");
    for (const [key, value] of Object.entries(acc as Record<string, unknown>)) {
      if (key.trim() === "") bad(["acceptance", key], "needs a capability name or requirement ID");
      const items = Array.isArray(value) ? value : [value];
      if (items.length === 0) bad(["acceptance", key], "must name at least one command");
      config.acceptance[key] = items.map((item, i) =>
        parseGateSpec(item, Array.isArray(value) ? ["acceptance", key, i] : ["acceptance", key], bad, lineOf),
      );
    }
  }
  if (raw.security !== undefined && raw.security !== null) {
    config.security = parseSecurity(raw.security, bad);
  }
  if (raw.run != null) config.run = parseRunConfig(raw.run, bad);
  if (raw.agents != null) config.agents = parseAgents(raw.agents, bad, lineOf);
  if (raw.triggers != null) config.triggers = parseTriggers(raw.triggers, bad);
  if (raw.store != null) config.store = parseStore(raw.store, bad);
  return config;
}

/**
 * `store: sqlite` (the default, said explicitly) or a PostgreSQL URL. A password written into keel.yaml would be
 * committed to git with it, so it is refused: it belongs in PGPASSWORD (or the URL in KEEL_STORE_URL).
 */
function parseStore(
  value: unknown,
  bad: (path: Array<string | number>, what: string) => never,
): string | null {
  if (value === "sqlite") return null;
  if (typeof value !== "string" || !/^postgres(ql)?:\/\//.test(value))
    bad(["store"], "must be `sqlite` or a `postgres://` URL");
  const url = URL.canParse(value) ? new URL(value) : null;
  if (url === null) bad(["store"], "is not a valid URL");
  if (url.password !== "")
    bad(
      ["store"],
      "must not hold a password (keel.yaml is committed): set PGPASSWORD, or KEEL_STORE_URL, instead",
    );
  return value;
}

// @req TRU-1, TRU-3
function parseSecurity(
  s: unknown,
  bad: (path: Array<string | number>, what: string) => never,
): SecurityConfig {
  if (typeof s !== "object" || Array.isArray(s)) bad(["security"], "must be a mapping");
  const so = s as Record<string, unknown>;
  const known = [
    "allowed_hosts",
    "instruction_patterns",
    "default_instruction_patterns",
    "trust_human_approved",
  ];
  for (const key of Object.keys(so)) if (!known.includes(key)) bad(["security", key], "is not a known key");
  const security = defaultConfig().security;
  const strings = (key: string): string[] => {
    const value = so[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) bad(["security", key], "must be a list of strings");
    return (value as unknown[]).map((item, i) => {
      if (typeof item !== "string" || item.trim() === "")
        bad(["security", key, i], "must be a non-empty string");
      return (item as string).trim();
    });
  };
  security.allowedHosts = strings("allowed_hosts").map((host, i) => {
    // A host, optionally with a leading dot for a suffix: no scheme, path or port, which would never match.
    if (!/^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$|^\[[0-9a-f:.]+\]$/iu.test(host))
      bad(
        ["security", "allowed_hosts", i],
        `is not a host name (${JSON.stringify(host)}); write e.g. docs.acme.com`,
      );
    return host.toLowerCase();
  });
  security.instructionPatterns = strings("instruction_patterns");
  security.instructionPatterns.forEach((pattern, i) => {
    try {
      new RegExp(pattern, INSTRUCTION_PATTERN_FLAGS);
    } catch (e) {
      bad(
        ["security", "instruction_patterns", i],
        `is not a valid regular expression: ${(e as Error).message}`,
      );
    }
  });
  for (const [key, field] of [
    ["default_instruction_patterns", "defaultInstructionPatterns"],
    ["trust_human_approved", "trustHumanApproved"],
  ] as const) {
    if (so[key] === undefined || so[key] === null) continue;
    if (typeof so[key] !== "boolean") bad(["security", key], "must be true or false");
    security[field] = so[key] as boolean;
  }
  return security;
}

/** A gate as written: a command, or `{ run, timeout, parallel, cwd }`. */
function parseGateSpec(
  value: unknown,
  at: Array<string | number>,
  bad: (path: Array<string | number>, what: string) => never,
  lineOf: (path: Array<string | number>) => number,
): GateSpec {
  const spec: GateSpec = { run: "", timeoutMs: null, parallel: true, cwd: ".", line: lineOf(at) };
  const shape = "must be a shell command, e.g. `npm test`, or a mapping `{ run, timeout, parallel, cwd }`";
  if (typeof value === "string") {
    if (value.trim() === "") bad(at, "must be a non-empty shell command, e.g. `npm test`");
    spec.run = value.trim();
    return spec;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(at, shape);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!["run", "timeout", "parallel", "cwd"].includes(key)) bad([...at, key], "is not a known key");
  if (typeof o.run !== "string" || o.run.trim() === "")
    bad(o.run === undefined ? at : [...at, "run"], "needs `run`: a non-empty shell command");
  spec.run = (o.run as string).trim();
  if (o.timeout !== undefined && o.timeout !== null) {
    const ms = typeof o.timeout === "string" ? parseGateDuration(o.timeout) : null;
    if (ms === null)
      bad([...at, "timeout"], "must be a positive duration with a unit: 500ms, 90s, 10m or 1h");
    spec.timeoutMs = ms;
  }
  if (o.parallel !== undefined) {
    if (typeof o.parallel !== "boolean") bad([...at, "parallel"], "must be true or false");
    spec.parallel = o.parallel as boolean;
  }
  if (o.cwd !== undefined && o.cwd !== null) {
    const cwd = typeof o.cwd === "string" ? projectRelativeDir(o.cwd) : null;
    if (cwd === null)
      bad(
        [...at, "cwd"],
        "must be a folder inside the project, relative to its root (no `..`, not absolute)",
      );
    spec.cwd = cwd;
  }
  return spec;
}

function parsePolicy(
  p: unknown,
  bad: (path: Array<string | number>, what: string) => never,
  lineOf: (path: Array<string | number>) => number,
): PolicyConfig {
  const levels = `use one of ${POLICY_LEVELS.join(", ")}`;
  if (typeof p !== "object" || Array.isArray(p))
    bad(["policy"], "must be a mapping with `default` and `areas`");
  const po = p as Record<string, unknown>;
  for (const key of Object.keys(po))
    if (key !== "default" && key !== "areas" && key !== "land") bad(["policy", key], "is not a known key");
  const policy: PolicyConfig = { default: "propose-only", land: "auto", defaultLine: null, areas: [] };
  const lands = `use one of ${LAND_LEVELS.join(", ")}`;
  const landOf = (value: unknown, at: Array<string | number>): LandLevel => {
    if (!(LAND_LEVELS as readonly unknown[]).includes(value))
      bad(at, `has unknown value ${JSON.stringify(value)}; ${lands}`);
    return value as LandLevel;
  };
  if (po.land != null) policy.land = landOf(po.land, ["policy", "land"]);
  if (po.default !== undefined && po.default !== null) {
    if (!(POLICY_LEVELS as readonly unknown[]).includes(po.default))
      bad(["policy", "default"], `has unknown value ${JSON.stringify(po.default)}; ${levels}`);
    policy.default = po.default as PolicyLevel;
    policy.defaultLine = lineOf(["policy", "default"]);
  }
  if (po.areas !== undefined && po.areas !== null) {
    if (!Array.isArray(po.areas)) bad(["policy", "areas"], "must be a list of `{match, agents}` entries");
    (po.areas as unknown[]).forEach((area, index) => {
      const at = ["policy", "areas", index];
      if (typeof area !== "object" || area === null || Array.isArray(area))
        bad(at, "must be a mapping with `match` and `agents`");
      const ao = area as Record<string, unknown>;
      for (const key of Object.keys(ao))
        if (key !== "match" && key !== "agents" && key !== "land") bad([...at, key], "is not a known key");
      if (typeof ao.match !== "string" || ao.match.trim() === "")
        bad(ao.match === undefined ? at : [...at, "match"], "needs `match`: a glob over capability names");
      if (ao.agents === undefined) bad(at, `needs \`agents\`; ${levels}`);
      if (!(POLICY_LEVELS as readonly unknown[]).includes(ao.agents))
        bad([...at, "agents"], `has unknown value ${JSON.stringify(ao.agents)}; ${levels}`);
      policy.areas.push({
        match: (ao.match as string).trim(),
        agents: ao.agents as PolicyLevel,
        land: ao.land == null ? null : landOf(ao.land, [...at, "land"]),
        index,
        line: lineOf(at),
      });
    });
  }
  return policy;
}

/**
 * keel.yaml's text with `layout` added to its `imported:` list (`keel import` records what it converted, so that
 * Keel reads keel/'s copy and not the toolkit's files). Without the key, it is appended with a comment and the
 * rest of the file is untouched; with it, the list is edited in place.
 */
export function configWithImported(text: string, layout: string): string {
  const doc = parseDocument(text);
  const current = doc.get("imported");
  if (current === undefined || current === null) {
    const sep = text === "" || text.endsWith("\n") ? "" : "\n";
    return `${text}${sep}\n# Layouts converted into keel/ by \`keel import\`: Keel reads keel/'s copy, not their files.\nimported: [${layout}]\n`;
  }
  const list = doc.toJS().imported as unknown[];
  if (list.includes(layout)) return text;
  doc.set("imported", doc.createNode([...list, layout], { flow: true }));
  return doc.toString();
}
