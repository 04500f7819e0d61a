// The spec-driven phases as procedures: each names only commands and MCP tools that exist (asked of the built
// CLI and of a running `keel mcp`), says how to check each step and how to change intent, and reaches agents
// the same way as a slash command (`keel agents add`) and as an MCP prompt.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHASE_TEXT, PHASES, type Phase } from "../src/core/agents/phases/index.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects, writeFiles } from "./support/files.js";
import { NINE_PHASES, PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";
import { connectStdio } from "./support/mcp.js";

const project = tempProjects("keel-phases-");

/** Every `keel <command> [<subcommand>]` a text mentions; a subcommand is a bare lower-case word after it. */
function commandsIn(text: string): Array<{ command: string; sub?: string }> {
  return [...text.matchAll(/\bkeel\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?/g)].map((m) =>
    m[2] === undefined ? { command: m[1] as string } : { command: m[1] as string, sub: m[2] },
  );
}

const helpOf = new Map<string, { code: number | null; text: string }>();

/** Why `keel <command> [<sub>]` is not a real command (null when it is), from the built CLI's own help. */
function commandProblem(command: string, sub?: string): string | null {
  let help = helpOf.get(command);
  if (!help) {
    const r = keel(project({}), command, "--help");
    help = { code: r.code, text: r.stdout };
    helpOf.set(command, help);
  }
  if (help.code !== 0) return `keel ${command}: no such command (exit ${help.code})`;
  if (sub === undefined) return null;
  // The usage line, and the first word of each line of a "subcommands:" list.
  const usage = help.text.split("\n").find((l) => l.startsWith("usage:")) ?? "";
  const listed =
    help.text
      .split("subcommands:\n")[1]
      ?.split("\n")
      .map((l) => l.trim().split(/\s+/)[0]) ?? [];
  const inUsage = new RegExp(`(^|[\\s|[])${sub}(?=[\\s|\\]]|$)`).test(usage);
  return inUsage || listed.includes(sub) ? null : `keel ${command} ${sub}: no such subcommand`;
}

// @verifies AGT-10, AGT-11, AGT-12, AGT-13, AGT-14, AGT-15
describe("phases: each is a procedure", () => {
  it("are the nine phases of a change, in order", () => {
    expect([...PHASES]).toEqual(NINE_PHASES);
  });

  it.each([...PHASES])(
    "%s: numbered steps, checks, one place for the input, and how to change intent",
    (phase) => {
      const { description, body } = PHASE_TEXT[phase];
      expect(description.length).toBeGreaterThan(10);
      const lines = body.split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(25);
      expect(lines.length).toBeLessThanOrEqual(60);
      // The user's words go in one place, and the phase says what to do without them.
      expect(body.split("ARGS").length - 1).toBe(1);
      expect(body).toMatch(/If (the input|it) is empty|if it is empty/);
      // Steps numbered 1, 2, 3 … with no gap, at least four of them.
      const steps = lines.filter((l) => /^\d+\. /.test(l)).map((l) => Number.parseInt(l, 10));
      expect(steps.length).toBeGreaterThanOrEqual(4);
      expect(steps).toEqual(steps.map((_, i) => i + 1));
      // At least one check, and at least one check names the keel command whose result decides it.
      const checks = lines.filter((l) => /^\s+Check: /.test(l));
      expect(checks.length).toBeGreaterThanOrEqual(1);
      expect(checks.some((c) => /`keel [a-z]/.test(c))).toBe(true);
      // Intent changes through a proposed change, and approval is left to a person.
      expect(body).toMatch(/Propose a change/);
      expect(body).toContain("`keel change new");
      expect(body).toContain("`keel_propose_change`");
      expect(body).toMatch(/approving a change is a human act/);
      // Gemini's command file holds the text in a TOML multi-line basic string: no backslash, no closing quotes.
      expect(body).not.toMatch(/\\|"""/);
    },
  );

  it("analyze reports only: it runs analyze, validate --strict and drift, and fixes nothing", () => {
    const { body } = PHASE_TEXT.analyze;
    for (const c of ["`keel analyze`", "`keel validate --strict`", "`keel drift`"]) expect(body).toContain(c);
    expect(body).toContain("This phase changes no file.");
  });

  it("constitution goes through a change, with Gate: lines naming the gates of keel.yaml", () => {
    const { body } = PHASE_TEXT.constitution;
    expect(body).toContain("`keel change new");
    expect(body).toContain("Gate: `<gate>`");
    expect(body).toContain("`keel/keel.yaml`");
    expect(body).toMatch(/Only once `keel change show <change>` reports `approved`/);
  });

  it("checklist writes a requirements-quality checklist under the change folder and resolves each item", () => {
    const { body } = PHASE_TEXT.checklist;
    expect(body).toContain("`keel/changes/<change>/checklists/");
    for (const d of ["Completeness", "Clarity", "Measurability", "Scenarios"])
      expect(body).toContain(`- ${d}:`);
    expect(body).toContain("Resolve each item");
  });
});

// @verifies AGT-13, AGT-14
describe("phases: what they tell an agent to write, Keel accepts", () => {
  it("a constitution amendment: a change with skip_specs validates, and its Gate: names a keel.yaml gate", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\ngates:\n  test: node -e 0\n",
      "keel/constitution.md":
        "# Constitution\n\n## Principles\n\n### Principle: Tests first {#P-1}\nTest it.\n",
    });
    const why = "Every merge has to pass the tests, so the constitution names the test gate.";
    expect(
      keel(root, "change", "new", "amend-constitution-tests", "--why", why, "--as", "agent:a").code,
    ).toBe(0);
    const dir = join(root, "keel/changes/amend-constitution-tests");
    writeFileSync(
      join(dir, "change.yaml"),
      `${readFileSync(join(dir, "change.yaml"), "utf8")}skip_specs: true\n`,
    );
    const checked = keel(root, "validate", "amend-constitution-tests", "--strict");
    expect(checked.code, checked.stdout).toBe(0);
    // Once approved, the principle gets its Gate: line naming the keel.yaml gate by name: wired, and run.
    writeFileSync(
      join(root, "keel/constitution.md"),
      "# Constitution\n\n## Principles\n\n### Principle: Tests first {#P-1}\nTest it.\n\nGate: `test`\n",
    );
    const rules = jsonOut(keel(root, "analyze", "--json")).findings.map((f: { rule: string }) => f.rule);
    expect(rules).not.toContain("analyze/gate-not-wired");
    expect(rules).not.toContain("analyze/principle-without-gate");
    expect(keel(root, "verify").code).toBe(0);
  });

  it("a checklist under the change folder: not read as tasks, and the change still validates", () => {
    const root = project({ "keel/keel.yaml": "version: 1\n", "keel/specs/payments/spec.md": PAYMENTS_SPEC });
    const why = "Refunds above a daily limit need a second look, because that is where fraud happens.";
    expect(
      keel(root, "change", "new", "add-refund-limits", "--why", why, "--capability", "payments").code,
    ).toBe(0);
    const dir = "keel/changes/add-refund-limits";
    writeFiles(root, {
      [`${dir}/specs/payments/spec.md`]:
        "## ADDED Requirements\n\n### Requirement: Daily refund limit {#PAY-3}\n" +
        "The system SHALL refuse refunds above 500 EUR per account per day.\n\n" +
        "#### Scenario: Over the limit\n- **WHEN** a refund would pass 500 EUR in one day\n- **THEN** it is refused\n" +
        "\n## Open Questions\n- [ ] Do partial refunds count against the limit?\n",
      [`${dir}/checklists/requirements.md`]:
        "# Requirements checklist: add-refund-limits\n\n## Measurability\n\n" +
        "- [x] CHK001 Is the limit given in a currency and a period? [Measurability, PAY-3]\n" +
        "- [ ] CHK002 Do partial refunds count? [Completeness, PAY-3]\n",
    });
    const checked = keel(root, "validate", "add-refund-limits", "--strict");
    expect(checked.code, checked.stdout).toBe(0);
    const titles = jsonOut(keel(root, "tasks", "list", "--json")).tasks.map(
      (t: { title: string }) => t.title,
    );
    expect(titles.some((t: string) => t.includes("CHK"))).toBe(false);
  });
});

// @verifies AGT-16
describe("phases: every command named exists", () => {
  it("the check refuses a command or a subcommand the CLI does not have", () => {
    expect(commandProblem("frobnicate")).toMatch(/no such command/);
    expect(commandProblem("change", "frobnicate")).toMatch(/no such subcommand/);
    expect(commandProblem("validate", "strictly")).toMatch(/no such subcommand/);
    expect(commandProblem("tasks", "claim")).toBeNull();
    expect(commandProblem("list", "requirements")).toBeNull();
  });

  it.each([...PHASES])("%s names only real keel commands and subcommands", (phase) => {
    const named = commandsIn(PHASE_TEXT[phase].body);
    expect(named.length).toBeGreaterThan(3);
    const problems = named.map((n) => commandProblem(n.command, n.sub)).filter((p) => p !== null);
    expect(problems).toEqual([]);
  });
});

let root: string;
let client: Client;

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
  });
  const made = keel(root, "change", "new", "add-refund-limits", "--why", "Large refunds need a limit.");
  expect(made.code, made.stderr).toBe(0);
  client = await connectStdio(root, "--as", "agent:codex-7");
});

afterAll(async () => {
  await client?.close();
});

// @verifies AGT-17
describe("phases: every MCP tool named exists", () => {
  it("each keel_* tool a phase names is served by `keel mcp` with its default tools", async () => {
    const served = new Set((await client.listTools()).tools.map((t) => t.name));
    for (const phase of PHASES) {
      const named = [...PHASE_TEXT[phase].body.matchAll(/\bkeel_[a-z_]+/g)].map((m) => m[0]);
      expect(named.length, phase).toBeGreaterThan(0);
      expect(
        named.filter((t) => !served.has(t)),
        phase,
      ).toEqual([]);
    }
  });
});

/** Each phase's prompt arguments, and the words they stand for in the slash command. */
const ARGUMENTS: Record<Phase, { args: Record<string, string>; words: string }> = {
  constitution: {
    args: { request: "Every merge passes the tests." },
    words: "Every merge passes the tests.",
  },
  specify: {
    args: { request: "Refunds above 500 EUR wait for a person." },
    words: "Refunds above 500 EUR wait for a person.",
  },
  clarify: { args: { change: "add-refund-limits" }, words: "add-refund-limits" },
  plan: { args: { change: "add-refund-limits" }, words: "add-refund-limits" },
  tasks: { args: { change: "add-refund-limits" }, words: "add-refund-limits" },
  analyze: { args: { change: "add-refund-limits" }, words: "add-refund-limits" },
  checklist: {
    args: { change: "add-refund-limits", focus: "security" },
    words: "add-refund-limits security",
  },
  implement: { args: { task: "payments/1.1" }, words: "payments/1.1" },
  review: { args: { change: "add-refund-limits" }, words: "add-refund-limits" },
};

// @verifies AGT-18, AGT-19
describe("phases: one text for slash commands and MCP prompts", () => {
  /** The body and description of a phase's command file, as `keel agents add cursor` wrote it. */
  function command(project: string, phase: Phase): { description: string; text: string } {
    const file = readFileSync(join(project, `.cursor/commands/keel-${phase}.md`), "utf8");
    const description = JSON.parse(file.split("\n")[1]?.replace("description: ", "") ?? "");
    return { description, text: file.slice(file.indexOf("-->\n\n") + 5).trimEnd() };
  }

  it("lists nine prompts, and each prompt is its slash command with the arguments in the user's place", async () => {
    const other = project({ "keel/keel.yaml": "version: 1\n" });
    expect(keel(other, "agents", "add", "cursor").code).toBe(0);
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual([...PHASES]);
    for (const phase of PHASES) {
      const slash = command(other, phase);
      expect(prompts.find((p) => p.name === phase)?.description, phase).toBe(slash.description);
      const got = await client.getPrompt({ name: phase, arguments: ARGUMENTS[phase].args });
      const text = got.messages[0]?.content.type === "text" ? got.messages[0].content.text : "";
      expect(text, phase).toBe(slash.text.replace("$ARGUMENTS", ARGUMENTS[phase].words));
    }
  });

  it("leaves the user's place empty when an optional argument is not given", async () => {
    const other = project({ "keel/keel.yaml": "version: 1\n" });
    expect(keel(other, "agents", "add", "cursor").code).toBe(0);
    for (const phase of ["constitution", "analyze", "implement", "review"] as const) {
      const got = await client.getPrompt({ name: phase, arguments: {} });
      const text = got.messages[0]?.content.type === "text" ? got.messages[0].content.text : "";
      expect(text, phase).toBe(command(other, phase).text.replace("$ARGUMENTS", ""));
    }
    await expect(client.getPrompt({ name: "checklist", arguments: {} })).rejects.toThrow();
  });

  it("completes the change of the new prompts from the open changes", async () => {
    const values = async (prompt: string, name: string, value: string) =>
      (await client.complete({ ref: { type: "ref/prompt", name: prompt }, argument: { name, value } }))
        .completion.values;
    expect(await values("checklist", "change", "add-")).toEqual(["add-refund-limits"]);
    expect(await values("analyze", "change", "")).toEqual(["add-refund-limits"]);
    expect(await values("checklist", "change", "zzz")).toEqual([]);
  });
});
