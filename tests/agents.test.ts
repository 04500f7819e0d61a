// `keel agents add|remove|list` and `keel init --agents`, through the built CLI in temporary projects.
// @verifies SRF-6
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { jsonOut, keel } from "./support/cli.js";
import { NINE_PHASES } from "./support/fixtures.js";

const ALL = ["claude", "codex", "cursor", "github-copilot", "gemini"];
const PHASES = NINE_PHASES;
const MCP = { command: "npx", args: ["keel", "mcp"] };
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh project after `keel init` (outside git, so init touches only keel/ and .gitignore). */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "keel-agents-"));
  dirs.push(dir);
  expect(keel(dir, "-C", dir, "init").code).toBe(0);
  return dir;
}

function put(root: string, rel: string, text: string): void {
  mkdirSync(join(root, rel, ".."), { recursive: true });
  writeFileSync(join(root, rel), text);
}

const read = (root: string, rel: string) => readFileSync(join(root, rel), "utf8");

/** Every folder and file under `root`, files with their exact bytes. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (lstatSync(join(root, r)).isSymbolicLink()) out[r] = "link";
      else if (statSync(join(root, r)).isDirectory()) {
        out[`${r}/`] = "dir";
        walk(r);
      } else out[r] = readFileSync(join(root, r)).toString("base64");
    }
  };
  walk("");
  return out;
}

// User content that must survive untouched outside Keel's parts.
const USER_AGENTS = "# House rules\n\nRun the linter before committing.\n";
const USER_CLAUDE = "# Claude\nPrefer small diffs.";
const USER_MCP =
  '{\n  "mcpServers": {\n    "db": { "command": "db-mcp", "args": ["--ro"] }\n  },\n  "other": true\n}\n';
const USER_CODEX =
  '# Codex settings, kept by Keel\nmodel = "o3" # the model\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n\n[profiles.fast]\nmodel = "o4-mini"\n';

function withUserFiles(): string {
  const root = project();
  put(root, "AGENTS.md", USER_AGENTS);
  put(root, "CLAUDE.md", USER_CLAUDE);
  put(root, ".mcp.json", USER_MCP);
  put(root, ".codex/config.toml", USER_CODEX);
  return root;
}

function commandFiles(agent: string): string[] {
  const where: Record<string, [string, string]> = {
    claude: [".claude/commands", ".md"],
    cursor: [".cursor/commands", ".md"],
    "github-copilot": [".github/prompts", ".prompt.md"],
    gemini: [".gemini/commands", ".toml"],
  };
  const w = where[agent];
  return w ? PHASES.map((p) => `${w[0]}/keel-${p}${w[1]}`) : [];
}

describe("keel agents add", () => {
  it("writes every agent's files, merged into the user's own", () => {
    const root = withUserFiles();
    const report = jsonOut(keel(root, "--json", "agents", "add", ...ALL));
    expect(report.agents).toEqual(ALL);

    const agentsMd = read(root, "AGENTS.md");
    expect(agentsMd.startsWith(`${USER_AGENTS}\n<!-- keel:begin -->\n`)).toBe(true);
    expect(agentsMd.endsWith("<!-- keel:end -->\n")).toBe(true);
    for (const cmd of [
      "keel context <task>",
      "keel tasks claim --next",
      "keel verify --task",
      "keel tasks done",
    ]) {
      expect(agentsMd).toContain(cmd);
    }
    expect(agentsMd).toContain("keel change new");
    expect(agentsMd.match(/keel:begin/g)).toHaveLength(1);

    const claudeMd = read(root, "CLAUDE.md");
    expect(claudeMd.startsWith(`${USER_CLAUDE}\n\n<!-- keel:begin -->\n`)).toBe(true);
    expect(claudeMd).toContain("@AGENTS.md");

    const mcp = JSON.parse(read(root, ".mcp.json"));
    expect(Object.keys(mcp)).toEqual(["mcpServers", "other"]);
    expect(Object.keys(mcp.mcpServers)).toEqual(["db", "keel"]);
    expect(mcp.mcpServers.db).toEqual({ command: "db-mcp", args: ["--ro"] });
    expect(mcp.mcpServers.keel).toEqual(MCP);
    expect(read(root, ".mcp.json")).toContain('"db": { "command": "db-mcp", "args": ["--ro"] }');

    const codexText = read(root, ".codex/config.toml");
    expect(codexText.startsWith(USER_CODEX)).toBe(true);
    const codex = parseToml(codexText) as Record<string, Record<string, unknown>>;
    expect(codex.mcp_servers).toEqual({ docs: { command: "docs-mcp" }, keel: MCP });
    expect(codex.profiles).toEqual({ fast: { model: "o4-mini" } });
    expect(codex.model).toBe("o3");

    expect(JSON.parse(read(root, ".cursor/mcp.json"))).toEqual({ mcpServers: { keel: MCP } });
    expect(JSON.parse(read(root, ".gemini/settings.json"))).toEqual({ mcpServers: { keel: MCP } });
    expect(JSON.parse(read(root, ".vscode/mcp.json"))).toEqual({
      servers: { keel: { type: "stdio", ...MCP } },
    });

    for (const agent of ALL) {
      for (const rel of commandFiles(agent)) {
        const text = read(root, rel);
        expect(text, rel).toContain("Written by Keel (keel agents add).");
        if (rel.endsWith(".toml")) {
          const cmd = parseToml(text) as { description: string; prompt: string };
          expect(cmd.description.length).toBeGreaterThan(0);
          expect(cmd.prompt).toContain("{{args}}");
        } else expect(text.startsWith("---\ndescription: ")).toBe(true);
      }
    }
    expect(read(root, ".claude/commands/keel-implement.md")).toContain("keel tasks claim --next");
    expect(read(root, ".github/prompts/keel-specify.prompt.md")).toContain("keel change new");
    // Codex reads AGENTS.md only: no command files of its own.
    expect(report.files.map((f: { path: string }) => f.path)).not.toContain(".codex/commands");

    const manifest = read(root, "keel/agents.yaml");
    expect(manifest).toContain(".claude/commands/keel-plan.md");
    expect(report.files.find((f: { path: string }) => f.path === "keel/agents.yaml").action).toBe("created");
  });

  it("is idempotent: a second add reports every file unchanged and changes no byte", () => {
    const root = withUserFiles();
    expect(keel(root, "agents", "add", ...ALL).code).toBe(0);
    const before = snapshot(root);
    const again = jsonOut(keel(root, "--json", "agents", "add", "claude,codex,cursor", "copilot", "gemini"));
    expect(again.files.length).toBeGreaterThan(30);
    for (const f of again.files) expect(f.action, f.path).toBe("unchanged");
    expect(snapshot(root)).toEqual(before);
  });

  it("keel init --agents sets up the named agents through the same core", () => {
    const dir = mkdtempSync(join(tmpdir(), "keel-agents-init-"));
    dirs.push(dir);
    const out = jsonOut(keel(dir, "-C", dir, "--json", "init", "--agents", "claude,codex"));
    expect(out.created).toContain("keel/keel.yaml");
    expect(out.agents.agents).toEqual(["claude", "codex"]);
    expect(JSON.parse(read(dir, ".mcp.json"))).toEqual({ mcpServers: { keel: MCP } });
    expect((parseToml(read(dir, ".codex/config.toml")) as Record<string, unknown>).mcp_servers).toEqual({
      keel: MCP,
    });
    const list = jsonOut(keel(dir, "--json", "agents", "list"));
    expect(
      list.agents.filter((a: { setUp: boolean }) => a.setUp).map((a: { name: string }) => a.name),
    ).toEqual(["claude", "codex"]);
  });
});

describe("keel agents remove", () => {
  it("takes the project back to its original bytes", () => {
    const root = withUserFiles();
    const before = snapshot(root);
    expect(keel(root, "agents", "add", ...ALL).code).toBe(0);
    expect(snapshot(root)).not.toEqual(before);
    const out = jsonOut(keel(root, "--json", "agents", "remove", ...ALL));
    expect(out.agents).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });

  it("keeps a command file edited since Keel wrote it, and says so", () => {
    const root = project();
    const before = snapshot(root);
    expect(keel(root, "agents", "add", "claude").code).toBe(0);
    const edited = `${read(root, ".claude/commands/keel-plan.md")}\nMy own extra step.\n`;
    put(root, ".claude/commands/keel-plan.md", edited);
    const out = jsonOut(keel(root, "--json", "agents", "remove", "claude"));
    expect(out.files).toContainEqual({
      path: ".claude/commands/keel-plan.md",
      action: "kept",
      reason: "edited since Keel wrote it",
    });
    expect(read(root, ".claude/commands/keel-plan.md")).toBe(edited);
    const after = snapshot(root);
    expect(Object.keys(after).filter((k) => !(k in before))).toEqual([
      ".claude/",
      ".claude/commands/",
      ".claude/commands/keel-plan.md",
    ]);
    const human = keel(root, "agents", "list");
    expect(human.stdout).toMatch(/^claude +instructions +AGENTS\.md +markdown +not set up$/m);
  });

  it("removes one agent and keeps the shared AGENTS.md block while another is set up", () => {
    const root = project();
    expect(keel(root, "agents", "add", "claude", "cursor").code).toBe(0);
    const withCursorOnly = project();
    expect(keel(withCursorOnly, "agents", "add", "cursor").code).toBe(0);
    expect(keel(root, "agents", "remove", "claude").code).toBe(0);
    const a = snapshot(root);
    const b = snapshot(withCursorOnly);
    delete a["keel/keel.yaml"];
    delete b["keel/keel.yaml"];
    expect(a).toEqual(b);
  });

  it("takes the project back to its original bytes when reached through a symbolic link", () => {
    const root = project();
    const link = `${root}-link`;
    symlinkSync(root, link);
    dirs.push(link);
    const before = snapshot(root);
    expect(keel(root, "-C", link, "agents", "add", "cursor").code).toBe(0);
    expect(keel(root, "-C", link, "agents", "remove", "cursor").code).toBe(0);
    expect(snapshot(root)).toEqual(before);
  });
});

describe("refusals", () => {
  it("a malformed .mcp.json is refused with its line, exit 3, and nothing is written", () => {
    const root = project();
    put(root, ".mcp.json", '{\n  "mcpServers": {\n    "db": { "command": "x", }\n  }\n}\n');
    const before = snapshot(root);
    const run = keel(root, "agents", "add", ...ALL);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(".mcp.json:3:");
    expect(snapshot(root)).toEqual(before);
  });

  it("a malformed .codex/config.toml is refused with its line, exit 3, and nothing is written", () => {
    const root = project();
    put(root, ".codex/config.toml", 'model = "o3"\n[broken\n');
    const before = snapshot(root);
    const run = keel(root, "agents", "add", "codex");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(".codex/config.toml:2:");
    expect(snapshot(root)).toEqual(before);
  });

  it("remove with broken markers in CLAUDE.md is refused with its line, exit 3, and nothing is changed", () => {
    const root = project();
    expect(keel(root, "agents", "add", "claude").code).toBe(0);
    put(root, "CLAUDE.md", read(root, "CLAUDE.md").replace("<!-- keel:end -->", ""));
    const before = snapshot(root);
    const run = keel(root, "agents", "remove", "claude");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("CLAUDE.md:1:");
    expect(snapshot(root)).toEqual(before);
  });

  it("never writes through a symbolic link that leads out of the project", () => {
    const root = project();
    const outside = mkdtempSync(join(tmpdir(), "keel-agents-outside-"));
    dirs.push(outside);
    symlinkSync(outside, join(root, ".cursor"));
    const before = snapshot(root);
    const run = keel(root, "agents", "add", "cursor");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("leads outside the project");
    expect(readdirSync(outside)).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });

  it("an unknown agent name is a usage error (exit 2) and nothing is written", () => {
    const root = project();
    const before = snapshot(root);
    const run = keel(root, "agents", "add", "claude", "vim");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown agent "vim"');
    expect(snapshot(root)).toEqual(before);
    const dir = mkdtempSync(join(tmpdir(), "keel-agents-bad-"));
    dirs.push(dir);
    expect(keel(dir, "-C", dir, "init", "--agents", "claude,emacs").code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});
