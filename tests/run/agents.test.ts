// keel run's agents (src/run/agents/): each preset's command line checked against the flags its own
// documentation gives (the expected argv is written here from those pages, cited above each test), its cost and
// tokens read from the output those pages show, the `command:` agent run as a real child process in its three
// prompt modes, and keel.yaml mistakes reported with their line.
// @verifies RUN-7
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AgentLaunch,
  type AgentPrompt,
  type AgentRequest,
  findPreset,
  PRESETS,
  resolveAgent,
} from "../../src/run/agents/index.js";
import { MAX_PROMPT_ARGUMENT } from "../../src/run/agents/shared.js";
import { parseConfig } from "../../src/workspace/config.js";
import { EXIT, KeelError } from "../../src/workspace/errors.js";
import type { AgentEntry } from "../../src/workspace/run-config.js";
import { tempProjects, writeFile } from "../support/files.js";

const project = tempProjects("keel-agents-");

const PROMPT: AgentPrompt = {
  promptFile: "/var/keel/attempts/T-1.1/prompt.md",
  prompt: "# Task T-1.1\nAdd the invoice dispute endpoint.\n",
  worktree: "/var/keel/worktrees/T-1.1",
};

function request(over: Partial<AgentRequest> = {}): AgentRequest {
  return { ...PROMPT, model: null, args: [], ...over };
}

function entry(over: Partial<AgentEntry> = {}): AgentEntry {
  return {
    name: "worker",
    preset: null,
    command: null,
    args: [],
    model: null,
    prompt: "stdin",
    network: null,
    env: [],
    line: 12,
    ...over,
  };
}

function preset(name: string) {
  const p = findPreset(name);
  if (p === null) throw new Error(`no preset ${name}`);
  return p;
}

/** The short instruction a stdin-fed tool gets as its prompt argument: it names stdin and forbids committing. */
function expectStdinInstruction(text: string | undefined): void {
  expect(text).toMatch(/standard input/);
  expect(text).toMatch(/do not commit/i);
}

describe("the preset registry", () => {
  it("has the six documented tools, each run by its own program with cited https docs", () => {
    expect(PRESETS.map((p) => p.name)).toEqual(["claude", "codex", "gemini", "aider", "cursor", "opencode"]);
    for (const p of PRESETS) {
      expect(p.launch(request()).argv[0]).toBe(p.program);
      expect(p.docs.length).toBeGreaterThan(0);
      for (const url of p.docs) expect(url).toMatch(/^https:\/\//);
      expect(p.network).toBe(true);
      expect(p.keyEnv.length).toBeGreaterThan(0);
      for (const key of p.keyEnv) expect(p.passEnv).toContain(key);
    }
  });
});

describe("Claude Code", () => {
  // code.claude.com/docs/en/headless: `claude -p "query"`, piped content `cat file | claude -p "query"`,
  // `--output-format json`; cli-reference: `--permission-mode acceptEdits`, `--model sonnet`.
  it("runs print mode with JSON output, edits accepted, the prompt on stdin", () => {
    const launch = preset("claude").launch(request({ model: "sonnet", args: ["--max-turns", "30"] }));
    const [program, print, instruction, ...flags] = launch.argv;
    expect([program, print]).toEqual(["claude", "-p"]);
    expectStdinInstruction(instruction);
    expect(flags).toEqual([
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--model",
      "sonnet",
      "--max-turns",
      "30",
    ]);
    expect(launch.stdin).toBe(PROMPT.prompt);
  });

  it("leaves the model to Claude Code when keel.yaml names none", () => {
    expect(preset("claude").launch(request()).argv).not.toContain("--model");
  });

  // The result object of `--output-format json`, as the headless docs describe it.
  const RESULT = {
    type: "result",
    subtype: "success",
    is_error: false,
    duration_ms: 1998,
    duration_api_ms: 1976,
    num_turns: 1,
    result: "Created hello.txt.",
    session_id: "0e639165-79b1-4bd4-bb0f-4cb4c15115d4",
    total_cost_usd: 0.0079825,
    usage: {
      input_tokens: 3,
      cache_creation_input_tokens: 120,
      cache_read_input_tokens: 15635,
      output_tokens: 6,
    },
  };

  it("records total_cost_usd and the tokens, cached prompt tokens included", () => {
    expect(preset("claude").usage(JSON.stringify(RESULT))).toEqual({
      costUsd: 0.0079825,
      inputTokens: 15758,
      outputTokens: 6,
    });
  });

  it("finds the result after other lines, and on a run stopped by its turn limit", () => {
    const stopped = { ...RESULT, subtype: "error_max_turns", is_error: true, total_cost_usd: 0.5 };
    const out = `Warning: something\n${JSON.stringify(stopped)}\n`;
    expect(preset("claude").usage(out)?.costUsd).toBe(0.5);
  });

  it("records nothing when the run printed no result", () => {
    expect(preset("claude").usage("")).toBeNull();
    expect(preset("claude").usage('{"type":"result","total_cost')).toBeNull();
  });
});

describe("Codex CLI", () => {
  // developers.openai.com/codex/noninteractive and cli/reference: `codex exec`, PROMPT `-` reads stdin,
  // `--json`, `--sandbox workspace-write` (replacing the deprecated `--full-auto`), `--model`.
  it("runs codex exec with JSON events, the workspace writable, the prompt `-` from stdin", () => {
    const launch = preset("codex").launch(request({ model: "gpt-5-codex", args: ["--ephemeral"] }));
    expect(launch.argv).toEqual([
      "codex",
      "exec",
      "--json",
      "--sandbox",
      "workspace-write",
      "--model",
      "gpt-5-codex",
      "--ephemeral",
      "-",
    ]);
    expect(launch.stdin).toBe(PROMPT.prompt);
  });

  // The sample output of docs/exec.md's "JSON output mode".
  const SAMPLE = [
    '{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}',
    '{"type":"turn.started"}',
    '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Searching for README files**"}}',
    '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"","status":"in_progress"}}',
    '{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Yep — there’s a `README.md` in the repository root."}}',
    '{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}',
  ].join("\n");

  it("records the tokens of turn.completed (cached ones are part of input_tokens) and no cost", () => {
    expect(preset("codex").usage(SAMPLE)).toEqual({ costUsd: null, inputTokens: 24763, outputTokens: 122 });
  });

  it("adds up several turns and skips what is not an event", () => {
    const second =
      '{"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":0,"output_tokens":8}}';
    const out = `Reading prompt from stdin...\n${SAMPLE}\n${second}\n`;
    expect(preset("codex").usage(out)).toEqual({ costUsd: null, inputTokens: 25763, outputTokens: 130 });
  });

  it("records nothing for a run that failed before its first turn ended", () => {
    const failed =
      '{"type":"thread.started","thread_id":"t"}\n{"type":"turn.failed","error":{"message":"401"}}';
    expect(preset("codex").usage(failed)).toBeNull();
  });
});

describe("Gemini CLI", () => {
  // geminicli.com/docs/cli/headless: `-p`/`--prompt` forces headless mode, stdin is combined with it,
  // `--output-format json`; cli-reference: `--approval-mode` default|auto_edit|yolo|plan, `--model`.
  it("runs headless with JSON output, edits auto-approved, the prompt on stdin", () => {
    const launch = preset("gemini").launch(request({ model: "gemini-2.5-pro" }));
    const [program, promptFlag, instruction, ...flags] = launch.argv;
    expect([program, promptFlag]).toEqual(["gemini", "--prompt"]);
    expectStdinInstruction(instruction);
    expect(flags).toEqual([
      "--output-format",
      "json",
      "--approval-mode",
      "auto_edit",
      "--model",
      "gemini-2.5-pro",
    ]);
    expect(launch.stdin).toBe(PROMPT.prompt);
  });

  // The example response of the headless docs' JSON output.
  const SAMPLE = {
    response: "The capital of France is Paris.",
    stats: {
      models: {
        "gemini-2.5-pro": {
          api: { totalRequests: 2, totalErrors: 0, totalLatencyMs: 5053 },
          tokens: { prompt: 24939, candidates: 20, total: 25113, cached: 21263, thoughts: 154, tool: 0 },
        },
        "gemini-2.5-flash": {
          api: { totalRequests: 1, totalErrors: 0, totalLatencyMs: 1879 },
          tokens: { prompt: 8965, candidates: 10, total: 9033, cached: 0, thoughts: 30, tool: 28 },
        },
      },
      tools: { totalCalls: 1, totalSuccess: 1, totalFail: 0, totalDurationMs: 1881 },
      files: { totalLinesAdded: 0, totalLinesRemoved: 0 },
    },
  };

  it("adds up every model's prompt tokens, and its candidates and thoughts, with no cost", () => {
    expect(preset("gemini").usage(JSON.stringify(SAMPLE, null, 2))).toEqual({
      costUsd: null,
      inputTokens: 24939 + 8965,
      outputTokens: 20 + 154 + 10 + 30,
    });
  });

  it("records nothing for an error object without stats", () => {
    const error = { error: { type: "AuthError", message: "no key", code: 41 } };
    expect(preset("gemini").usage(JSON.stringify(error))).toBeNull();
  });
});

describe("Aider", () => {
  // aider.chat/docs/scripting.html: `--message-file` sends one message and exits; config/options.html:
  // `--yes-always`, `--no-auto-commits`, `--no-dirty-commits`, `--no-gitignore`, `--input-history-file`,
  // `--chat-history-file`, `--no-check-update`, `--no-analytics`, `--model`.
  it("sends the prompt file as one message and never commits or writes outside the task", () => {
    const launch = preset("aider").launch(request({ model: "sonnet", args: ["--map-tokens", "2048"] }));
    expect(launch.argv).toEqual([
      "aider",
      "--message-file",
      PROMPT.promptFile,
      "--yes-always",
      "--no-auto-commits",
      "--no-dirty-commits",
      "--no-gitignore",
      "--input-history-file",
      "/dev/null",
      "--chat-history-file",
      "/dev/null",
      "--no-check-update",
      "--no-analytics",
      "--model",
      "sonnet",
      "--map-tokens",
      "2048",
    ]);
    expect(launch.stdin).toBeNull();
  });

  // The usage line aider prints after each message (aider/coders/base_coder.py's tokens and cost report).
  const OUTPUT = [
    "Aider v0.86.1",
    "Main model: anthropic/claude-sonnet-4 with diff edit format",
    "Tokens: 4.6k sent, 186 received. Cost: $0.02 message, $0.02 session.",
    "Applied edit to hello.txt",
    "Tokens: 12k sent, 2.1k cache write, 8.0k cache hit, 1.2k received. Cost: $0.05 message, $0.07 session.",
  ].join("\n");

  it("adds up the tokens of every message and takes the session's running cost", () => {
    expect(preset("aider").usage(OUTPUT)).toEqual({ costUsd: 0.07, inputTokens: 16600, outputTokens: 1386 });
  });

  it("records the tokens without a cost for a model whose price aider does not know", () => {
    expect(preset("aider").usage("Tokens: 980 sent, 35 received.\n")).toEqual({
      costUsd: null,
      inputTokens: 980,
      outputTokens: 35,
    });
    expect(preset("aider").usage("Applied edit to hello.txt\n")).toBeNull();
  });
});

describe("Cursor CLI", () => {
  // cursor.com/docs/cli/headless: `-p` print mode, `--force` to apply file changes; reference/parameters:
  // `--output-format json`, `--model`; the prompt is the positional argument.
  it("runs print mode with edits forced, JSON output, the prompt as the last argument", () => {
    const launch = preset("cursor").launch(request({ model: "sonnet-4", args: ["--approve-mcps"] }));
    expect(launch.argv).toEqual([
      "cursor-agent",
      "-p",
      "--force",
      "--output-format",
      "json",
      "--model",
      "sonnet-4",
      "--approve-mcps",
      PROMPT.prompt,
    ]);
    expect(launch.stdin).toBeNull();
  });

  it("points at the prompt file when the prompt is too long for one argument", () => {
    const prompt = "x".repeat(MAX_PROMPT_ARGUMENT + 1);
    const last = preset("cursor").launch(request({ prompt })).argv.at(-1);
    expect(last).toContain(PROMPT.promptFile);
    expect(Buffer.byteLength(last ?? "")).toBeLessThan(1000);
    const fits = "é".repeat(MAX_PROMPT_ARGUMENT / 2);
    expect(
      preset("cursor")
        .launch(request({ prompt: fits }))
        .argv.at(-1),
    ).toBe(fits);
  });

  it("records no usage: the documented result object has no cost or tokens", () => {
    const result = {
      type: "result",
      subtype: "success",
      is_error: false,
      duration_ms: 1234,
      duration_api_ms: 1234,
      result: "Created hello.txt",
      session_id: "5b7f5d0e-2c4e-4d6f-9a3b-7c1e2f3a4b5c",
      request_id: "req_1",
    };
    expect(preset("cursor").usage(JSON.stringify(result))).toBeNull();
  });
});

describe("opencode", () => {
  // opencode.ai/docs/cli/#run: `opencode run [message..]`, `--model provider/model`, `--format json` (raw JSON
  // events); piped stdin is appended to the message.
  it("runs opencode run with JSON events, the prompt on stdin", () => {
    const launch = preset("opencode").launch(
      request({ model: "anthropic/claude-sonnet-4", args: ["--agent", "build"] }),
    );
    const instruction = launch.argv.at(-1);
    expect(launch.argv.slice(0, -1)).toEqual([
      "opencode",
      "run",
      "--format",
      "json",
      "--model",
      "anthropic/claude-sonnet-4",
      "--agent",
      "build",
    ]);
    expectStdinInstruction(instruction);
    expect(launch.stdin).toBe(PROMPT.prompt);
  });

  // `--format json` events: each step's step-finish part carries its cost and tokens.
  const step = (input: number, output: number, read: number, cost: number) =>
    JSON.stringify({
      type: "step_finish",
      timestamp: 1760000000000,
      sessionID: "ses_1",
      part: {
        type: "step-finish",
        reason: "stop",
        cost,
        tokens: { input, output, reasoning: 4, cache: { read, write: 0 } },
      },
    });
  const OUTPUT = [
    '{"type":"step_start","timestamp":1760000000000,"sessionID":"ses_1","part":{"type":"step-start"}}',
    '{"type":"text","timestamp":1760000000001,"sessionID":"ses_1","part":{"type":"text","text":"Done."}}',
    step(17509, 3, 1000, 0.0123),
    step(200, 50, 17000, 0.004),
  ].join("\n");

  it("adds up every step's cost and tokens, cache reads and reasoning included", () => {
    const usage = preset("opencode").usage(OUTPUT);
    expect(usage?.inputTokens).toBe(17509 + 1000 + 200 + 17000);
    expect(usage?.outputTokens).toBe(3 + 4 + 50 + 4);
    expect(usage?.costUsd).toBeCloseTo(0.0163, 10);
  });
});

describe("usage parsing", () => {
  const samples = [
    '{"type":"result","total_cost_usd":0.1,"usage":{"input_tokens":1,"output_tokens":2}}',
    '{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":1,"output_tokens":2}}',
    '{"response":"x","stats":{"models":{"m":{"tokens":{"prompt":1,"candidates":2}}}}}',
    "Tokens: 1.2k sent, 3 received. Cost: $0.01 message, $0.01 session.",
    '{"type":"step_finish","part":{"cost":0.1,"tokens":{"input":1,"output":2,"cache":{"read":3}}}}',
  ];
  const garbage = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.string())
      .map(([s, cut, tail]) => s.slice(0, cut % (s.length + 1)) + tail),
    fc
      .array(fc.constantFrom(...samples, "null", "[]", '{"usage":null}', '{"stats":[1]}'), { maxLength: 5 })
      .map((l) => l.join("\n")),
  );

  it("never throws, and gives null or non-negative numbers, whatever a tool prints", () => {
    fc.assert(
      fc.property(garbage, (out) => {
        for (const p of PRESETS) {
          const usage = p.usage(out);
          if (usage === null) continue;
          for (const v of Object.values(usage)) if (v !== null) expect(v).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("ignores negative, non-numeric and non-finite amounts", () => {
    const out = '{"type":"result","total_cost_usd":-1,"usage":{"input_tokens":"12","output_tokens":1e999}}';
    expect(preset("claude").usage(out)).toBeNull();
  });
});

describe("resolveAgent", () => {
  it("applies the entry's model, arguments, network and environment to its preset", () => {
    const agent = resolveAgent(
      entry({
        name: "careful",
        preset: "claude",
        model: "opus",
        args: ["--allowedTools", "Bash(npm test:*)"],
        network: false,
        env: ["HTTPS_PROXY", "ANTHROPIC_API_KEY"],
      }),
    );
    expect(agent.name).toBe("claude");
    expect(agent.entry).toBe("careful");
    expect(agent.network).toBe(false);
    expect(agent.passEnv).toEqual([
      "ANTHROPIC_API_KEY",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "CLAUDE_CONFIG_DIR",
      "HTTPS_PROXY",
    ]);
    expect(agent.launch(PROMPT).argv.slice(-4)).toEqual([
      "--model",
      "opus",
      "--allowedTools",
      "Bash(npm test:*)",
    ]);
    expect(agent.usage).toBe(preset("claude").usage);
  });

  it("keeps the preset's network when the entry does not say", () => {
    expect(resolveAgent(entry({ preset: "codex" })).network).toBe(true);
  });

  it("reports an unknown preset as a project error at the entry's line, naming every preset", () => {
    let error: unknown;
    try {
      resolveAgent(entry({ name: "fast", preset: "claud", line: 17 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeelError);
    const e = error as KeelError;
    expect(e.exitCode).toBe(EXIT.unreadable);
    expect(e.code).toBe("project");
    expect(e.location).toEqual({ file: "keel/keel.yaml", line: 17, col: 1 });
    expect(e.message).toContain("`fast`");
    expect(e.message).toContain("`claud`");
    for (const p of PRESETS) expect(e.hint).toContain(p.name);
    expect(e.hint).toContain("command:");
  });

  // The example of docs/run.md#agent-presets, with a misspelt preset added.
  const EXAMPLE = [
    "run:",
    "  agent: claude        # what `keel run` starts when no --agent is given",
    "  workers: 3",
    "",
    "agents:",
    "  claude:",
    "    preset: claude",
    "    model: sonnet",
    '    args: ["--allowedTools", "Bash(npm test:*)"]',
    "  codex:",
    "    preset: codex",
    "    model: gpt-5-codex",
    "  local:",
    "    command: ./scripts/agent.sh --fast",
    "    prompt: arg",
    "    env: [MY_AGENT_TOKEN]",
    "  typo:",
    "    preset: claud",
    "",
  ];

  it("resolves the documented keel.yaml example, with the lines keel.yaml gives", () => {
    const config = parseConfig(EXAMPLE.join("\n"));
    expect([config.run.agent, config.run.workers]).toEqual(["claude", 3]);
    const claudeArgv = resolveAgent(config.agents.claude as AgentEntry).launch(PROMPT).argv;
    expect(claudeArgv.slice(-4)).toEqual(["--model", "sonnet", "--allowedTools", "Bash(npm test:*)"]);
    expect(resolveAgent(config.agents.codex as AgentEntry).launch(PROMPT).argv).toContain("gpt-5-codex");
    const local = resolveAgent(config.agents.local as AgentEntry);
    expect([local.name, local.network, local.passEnv]).toEqual(["command", false, ["MY_AGENT_TOKEN"]]);
    expect(local.launch(PROMPT).argv.at(-1)).toBe(PROMPT.prompt);
    // The parser places an entry at its first key: here the misspelt `preset:` itself.
    const line = EXAMPLE.indexOf("    preset: claud") + 1;
    expect(() => resolveAgent(config.agents.typo as AgentEntry)).toThrow(
      expect.objectContaining({ location: { file: "keel/keel.yaml", line, col: 1 } }),
    );
  });
});

describe("command: agents, run as real child processes", () => {
  // What no shell may read: quotes, a variable, a command substitution, a leading dash, lines, non-ASCII.
  const TRICKY = `--not-a-flag "quoted" 'single' $HOME \`id\` $(echo no); rm -rf nothing\nsecond line ü\n`;

  /** A program that writes down its arguments (NUL-separated), its stdin and the prompt file it was told of. */
  function recorder(): { dir: string; command: string } {
    const dir = project({});
    writeFile(
      dir,
      "agent.sh",
      [
        "#!/bin/sh",
        'out="$(dirname "$0")"',
        'printf \'%s\\0\' "$@" > "$out/args"',
        'cat > "$out/stdin"',
        'if [ -n "$KEEL_PACK_FILE" ]; then cat "$KEEL_PACK_FILE" > "$out/file"; fi',
        "",
      ].join("\n"),
    );
    chmodSync(join(dir, "agent.sh"), 0o755);
    return { dir, command: `'${join(dir, "agent.sh")}' --flag` };
  }

  /** Spawns a launch as the runner does: its argv, its stdin or /dev/null, the prompt file in KEEL_PACK_FILE. */
  function spawnLaunch(launch: AgentLaunch, prompt: AgentPrompt): void {
    const [program, ...args] = launch.argv;
    const r = spawnSync(program as string, args, {
      cwd: prompt.worktree,
      env: { PATH: process.env.PATH, KEEL_PACK_FILE: prompt.promptFile },
      input: launch.stdin ?? undefined,
      stdio: [launch.stdin === null ? "ignore" : "pipe", "pipe", "pipe"],
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }

  function attempt(): AgentPrompt {
    const scratch = project({ "prompt.md": TRICKY });
    return { promptFile: join(scratch, "prompt.md"), prompt: TRICKY, worktree: project({}) };
  }

  const seen = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");

  it("stdin: the program reads the prompt on its stdin, the command's own arguments unchanged", () => {
    const { dir, command } = recorder();
    const req = attempt();
    spawnLaunch(resolveAgent(entry({ command })).launch(req), req);
    expect(seen(dir, "stdin")).toBe(TRICKY);
    expect(seen(dir, "args")).toBe("--flag\0");
  });

  it("arg: the prompt is the program's last argument, byte for byte, with stdin empty", () => {
    const { dir, command } = recorder();
    const req = attempt();
    spawnLaunch(resolveAgent(entry({ command, prompt: "arg" })).launch(req), req);
    expect(seen(dir, "args")).toBe(`--flag\0${TRICKY}\0`);
    expect(seen(dir, "stdin")).toBe("");
  });

  it("file: the prompt reaches the program only through its file", () => {
    const { dir, command } = recorder();
    const req = attempt();
    const launch = resolveAgent(entry({ command, prompt: "file" })).launch(req);
    expect(launch.stdin).toBeNull();
    spawnLaunch(launch, req);
    expect(seen(dir, "args")).toBe("--flag\0");
    expect(seen(dir, "stdin")).toBe("");
    expect(seen(dir, "file")).toBe(TRICKY);
  });

  it("runs in the worktree it is given, where a relative command resolves", () => {
    const req = attempt();
    writeFile(req.worktree, "scripts/agent.sh", '#!/bin/sh\ncat > "$(pwd)/got.txt"\n');
    chmodSync(join(req.worktree, "scripts/agent.sh"), 0o755);
    spawnLaunch(resolveAgent(entry({ command: "./scripts/agent.sh" })).launch(req), req);
    expect(existsSync(join(req.worktree, "got.txt"))).toBe(true);
    expect(seen(req.worktree, "got.txt")).toBe(TRICKY);
  });
});
