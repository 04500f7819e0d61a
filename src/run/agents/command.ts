// The `command:` agent of keel.yaml: any program, run through `sh -c` in the worktree, the prompt reaching it on
// stdin (the default), as its last argument, or only through its file (KEEL_PACK_FILE, which the runner sets for
// every agent). An argument goes through `"$@"`, never through the command text, so nothing in the prompt is
// read by the shell.
// @req RUN-7
import type { AgentEntry } from "../../workspace/run-config.js";
import type { AgentLaunch, AgentPrompt, ResolvedAgent } from "./types.js";

function launch(command: string, how: AgentEntry["prompt"], req: AgentPrompt): AgentLaunch {
  switch (how) {
    case "stdin":
      return { argv: ["/bin/sh", "-c", command], stdin: req.prompt };
    case "arg":
      // `sh -c script name args…`: "sh" is $0, the prompt $1; the script appends "$@" to the command.
      return { argv: ["/bin/sh", "-c", `${command} "$@"`, "sh", req.prompt], stdin: null };
    case "file":
      return { argv: ["/bin/sh", "-c", command], stdin: null };
  }
}

/** A `command:` entry as an agent: no network unless the entry asks, only the entry's `env` passed through. */
export function commandAgent(entry: AgentEntry & { command: string }): ResolvedAgent {
  return {
    name: "command",
    entry: entry.name,
    network: entry.network ?? false,
    passEnv: [...entry.env],
    stateDirs: [],
    launch: (req) => launch(entry.command, entry.prompt, req),
    usage: () => null,
  };
}
