// The one interface every coding agent of `keel run` enters through: a preset per foreign CLI (claude.ts,
// codex.ts, …), each a small adapter that knows that tool's documented non-interactive command line and how it
// reports cost, and the `command:` agent for any other program. The runner (agent-process.ts) spawns what
// `launch` returns, inside the sandbox, with nothing of Keel's environment but PATH, HOME, LANG, TERM, Keel's own
// KEEL_* variables and the names in `passEnv`.
// @req RUN-7

/** What a worker hands an agent for one attempt. */
export interface AgentPrompt {
  /** Absolute path of the prompt file (pack + instructions + feedback), outside the worktree. */
  promptFile: string;
  /** The same text. */
  prompt: string;
  /** Absolute path: the agent's working directory. */
  worktree: string;
}

export interface AgentRequest extends AgentPrompt {
  /** From keel.yaml `agents.<name>.model`; null: the tool's own default. */
  model: string | null;
  /** Extra arguments from keel.yaml `agents.<name>.args`, appended after the preset's own. */
  args: string[];
}

export interface AgentLaunch {
  /** `[program, ...arguments]`: the runner spawns it, maybe inside bubblewrap. */
  argv: string[];
  /** Text written to the agent's stdin, which is then closed; null: stdin is /dev/null. */
  stdin: string | null;
}

/**
 * Cost and tokens of one attempt, where the agent reports them. Counted alike for every tool: input is every
 * prompt token the model read, cached ones included; output is every token it generated, reasoning included.
 */
export interface AgentUsage {
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
}

export interface AgentPreset {
  /** "claude" | "codex" | "gemini" | "aider" | "cursor" | "opencode": the value of keel.yaml `preset:`. */
  name: string;
  /** The tool's name for people: "Claude Code". */
  title: string;
  /** The binary looked up on PATH. */
  program: string;
  /** The official documentation the command line comes from (cited in docs/run.md). */
  docs: string[];
  /** Whether it needs the network (to reach its model's API): true for every real tool. */
  network: boolean;
  /** Environment variables any one of which holds its API key (the real-CLI tests run only if one is set). */
  keyEnv: string[];
  /** Environment variables passed through to it: its key and its configuration. */
  passEnv: string[];
  /**
   * Paths under HOME where the tool keeps its own state (login, settings, sessions). A sandbox that makes HOME
   * read-only must leave these writable, or the tool may not start.
   */
  stateDirs: string[];
  launch(req: AgentRequest): AgentLaunch;
  /** Cost and tokens from the agent's stdout where it reports them; null where it does not. Never throws. */
  usage(stdout: string): AgentUsage | null;
}

/** A keel.yaml agent entry made runnable: its preset (or `command:`) with the entry's settings applied. */
export interface ResolvedAgent extends Omit<AgentPreset, "launch" | "title" | "docs" | "program" | "keyEnv"> {
  /** The entry's name: the key under keel.yaml `agents:`. */
  entry: string;
  /** The command line for one attempt; the entry's model and arguments are already applied. */
  launch(req: AgentPrompt): AgentLaunch;
}
