// Every agent adapter, through the built CLI in temporary git projects: `keel agents add <name>` writes the
// files `keel agents list --json` declares, each valid in its tool's format, merged into the user's own files;
// `remove` gives the user's bytes back.
// @verifies AGT-1, AGT-2, AGT-3, AGT-4, AGT-5, AGT-6, AGT-7, AGT-8, AGT-9
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type ParseError, parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ADAPTERS } from "../src/core/agents/adapters/index.js";
import { PHASES } from "../src/core/agents/templates.js";
import { jsonOut, keel } from "./support/cli.js";
import { NOT_PROJECT_FILES, tempProjects, treeDigests, writeFile } from "./support/files.js";
import { gitInit } from "./support/git.js";

interface TargetInfo {
  path: string;
  kind: "instructions" | "bridge" | "command" | "mcp";
  format: string;
  phase?: string;
  placeholder?: string;
  key?: string;
}
interface ListedAgent {
  name: string;
  title: string;
  aliases: string[];
  docs: string[];
  setUp: boolean;
  targets: TargetInfo[];
  files: { path: string; state: string }[];
}

const MARKER = "Written by Keel (keel agents add).";
const makeProject = tempProjects("keel-adapters-");

/** A git project after `keel init`. */
function project(): string {
  const root = makeProject({});
  gitInit(root);
  expect(keel(root, "init").code).toBe(0);
  return root;
}

const read = (root: string, rel: string) => readFileSync(join(root, rel), "utf8");

/** Every file's digest and every folder (outside .git), so that a folder left behind shows too. */
function state(root: string): { files: Map<string, string>; dirs: string[] } {
  const dirs: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const rel = relative(root, join(dir, e.name));
      if (!e.isDirectory() || rel === ".git" || NOT_PROJECT_FILES.includes(rel)) continue;
      dirs.push(rel);
      walk(join(dir, e.name));
    }
  };
  walk(root);
  const files = new Map([...treeDigests(root)].filter(([p]) => !p.startsWith(".git/")));
  return { files, dirs: dirs.sort() };
}

function listed(root: string): ListedAgent[] {
  const list = jsonOut(keel(root, "--json", "agents", "list"));
  expect(list.version).toBe(1);
  return list.agents;
}

/** What a user already had in a shared file, in that file's format: kept byte for byte around Keel's part. */
function userContent(t: TargetInfo): string {
  if (t.kind !== "mcp") return "# Our notes\n\nKeep diffs small.\n";
  if (t.format === "toml") return '# ours\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n';
  const [servers] = (t.key as string).split(/\.(?=[^.]+$)/);
  const comment = t.format === "jsonc" ? "  // our own server\n" : "";
  return `{\n  "other": true,\n  ${JSON.stringify(servers)}: {\n${comment}    "db": { "command": "db-mcp" }\n  }\n}\n`;
}

function parseJson(text: string, format: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { disallowComments: format === "json", allowTrailingComma: false });
  expect(errors, text).toEqual([]);
  return doc;
}

/** The value at a dotted key whose last part is Keel's name (the servers key may hold a dot: `amp.mcpServers`). */
function entryAt(doc: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const at = key.lastIndexOf(".");
  const servers = doc[key.slice(0, at)] as Record<string, unknown> | undefined;
  return servers?.[key.slice(at + 1)] as Record<string, unknown> | undefined;
}

/** Checks one written file against its tool's format. */
function expectValid(root: string, t: TargetInfo): void {
  const text = read(root, t.path);
  if (t.kind === "command") {
    expect(text, t.path).toContain(MARKER);
    expect(text, t.path).toContain(t.placeholder as string);
    if (t.format === "markdown") {
      const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
      expect(m, t.path).not.toBeNull();
      const front = parseYaml(m?.[1] ?? "") as { description?: unknown };
      expect(typeof front.description, t.path).toBe("string");
      expect((front.description as string).length).toBeGreaterThan(0);
    } else if (t.format === "plain-markdown") {
      const [title, description] = text.split("\n\n");
      expect(title, t.path).toMatch(/^# \S/);
      expect(description?.trim().length, t.path).toBeGreaterThan(0);
    } else {
      expect(t.format).toBe("toml");
      const cmd = parseToml(text) as { description?: unknown; prompt?: unknown };
      expect(typeof cmd.description, t.path).toBe("string");
      expect(cmd.prompt, t.path).toContain(t.placeholder as string);
    }
    return;
  }
  if (t.kind === "mcp") {
    const key = t.key as string;
    const doc =
      t.format === "toml" ? (parseToml(text) as Record<string, unknown>) : parseJson(text, t.format);
    const entry = entryAt(doc, key);
    expect(entry, `${t.path} ${key}`).toBeDefined();
    // Every tool runs `npx keel mcp`, whatever the shape of its entry.
    expect(JSON.stringify(entry)).toMatch(/"npx".*"keel".*"mcp"/);
    return;
  }
  expect(text.match(/<!-- keel:begin -->/g), t.path).toHaveLength(1);
  expect(text).toContain("<!-- keel:end -->");
  if (t.kind === "bridge") expect(text).toContain("@AGENTS.md");
  else expect(text).toContain("keel tasks claim --next");
}

describe("keel agents list --json", () => {
  it("lists every adapter, in the registry's order, with what it writes and its docs", () => {
    const root = project();
    const agents = listed(root);
    expect(agents.map((a) => a.name)).toEqual(ADAPTERS.map((a) => a.name));
    expect(agents.length).toBeGreaterThanOrEqual(25);
    for (const a of agents) {
      expect(a.name, a.name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(a.title.length).toBeGreaterThan(0);
      expect(a.docs.length, a.name).toBeGreaterThan(0);
      for (const url of a.docs) expect(url).toMatch(/^https:\/\//);
      expect(a.setUp).toBe(false);
      expect(a.files).toEqual([]);
      expect(a.targets.length, a.name).toBeGreaterThan(0);
      const commands = a.targets.filter((t) => t.kind === "command");
      if (commands.length > 0) {
        // Every phase, once, whatever the number of phases.
        expect(commands.map((t) => t.phase)).toEqual([...PHASES]);
        expect(new Set(commands.map((t) => t.path)).size).toBe(PHASES.length);
      }
      for (const t of a.targets.filter((t) => t.kind === "mcp")) expect(t.key).toMatch(/\.keel$/);
    }
  });

  it("two adapters that write the same file write it the same way", () => {
    const root = project();
    const byPath = new Map<string, string>();
    for (const a of listed(root)) {
      for (const t of a.targets) {
        const shape = JSON.stringify({ kind: t.kind, format: t.format, key: t.key });
        expect(byPath.get(t.path) ?? shape, `${a.name} ${t.path}`).toBe(shape);
        byPath.set(t.path, shape);
      }
    }
  });
});

describe.each(ADAPTERS.map((a) => a.name))("keel agents add %s", (name) => {
  it("writes the declared files, each valid in the tool's format, around the user's own content; remove gives the bytes back", () => {
    const root = project();
    const agent = listed(root).find((a) => a.name === name) as ListedAgent;
    const shared = agent.targets.filter((t) => t.kind !== "command");
    for (const t of shared) writeFile(root, t.path, userContent(t));
    const before = state(root);

    const report = jsonOut(keel(root, "--json", "agents", "add", name));
    expect(report.agents).toEqual([name]);
    for (const t of agent.targets) expectValid(root, t);
    for (const t of shared) {
      const text = read(root, t.path);
      const user = userContent(t);
      if (t.kind === "mcp" && t.format !== "toml") {
        expect(entryAt(parseJson(text, t.format), t.key?.replace(/keel$/, "db") as string)).toEqual({
          command: "db-mcp",
        });
        expect((parseJson(text, t.format) as { other?: unknown }).other).toBe(true);
        if (t.format === "jsonc") expect(text).toContain("// our own server\n");
      } else expect(text.startsWith(user), t.path).toBe(true);
    }

    const after = listed(root).find((a) => a.name === name) as ListedAgent;
    expect(after.setUp).toBe(true);
    expect(after.files).toEqual(agent.targets.map((t) => ({ path: t.path, state: "present" })));

    expect(keel(root, "agents", "remove", name).code).toBe(0);
    expect(state(root)).toEqual(before);
  });

  it("in a project with none of its files, remove leaves nothing behind", () => {
    const root = project();
    const before = state(root);
    expect(keel(root, "agents", "add", name).code).toBe(0);
    expect(keel(root, "agents", "remove", name).code).toBe(0);
    expect(state(root)).toEqual(before);
  });
});

describe("agents sharing a file", () => {
  it("removing one of two agents that share AGENTS.md and .mcp.json keeps the shared parts until the other goes", () => {
    const root = project();
    const before = state(root);
    expect(keel(root, "agents", "add", "claude", "codebuddy").code).toBe(0);
    const out = jsonOut(keel(root, "--json", "agents", "remove", "claude"));
    expect(out.agents).toEqual(["codebuddy"]);
    expect(read(root, "AGENTS.md")).toContain("<!-- keel:begin -->");
    expect(entryAt(parseJson(read(root, ".mcp.json"), "json"), "mcpServers.keel")).toBeDefined();
    expect(() => read(root, "CLAUDE.md")).toThrow();
    expect(read(root, "CODEBUDDY.md")).toContain("@AGENTS.md");
    expect(keel(root, "agents", "remove", "codebuddy").code).toBe(0);
    expect(state(root)).toEqual(before);
  });
});

describe("the name copilot", () => {
  it("still names GitHub Copilot, on the command line and in a keel/agents.yaml written before the rename", () => {
    const root = project();
    const before = state(root);
    expect(jsonOut(keel(root, "--json", "agents", "add", "copilot")).agents).toEqual(["github-copilot"]);
    const manifest = read(root, "keel/agents.yaml");
    writeFile(root, "keel/agents.yaml", manifest.replace("- github-copilot", "- copilot"));
    expect(listed(root).find((a) => a.name === "github-copilot")?.setUp).toBe(true);
    expect(keel(root, "agents", "remove", "copilot").code).toBe(0);
    expect(state(root)).toEqual(before);
  });
});
