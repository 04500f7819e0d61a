// `keel completion bash|zsh|fish` prints the shell's completion script; the script asks `keel __complete -- <words>`
// (hidden) for the candidates at the cursor.
// @req CLI-5
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { SCRIPTS, SHELLS, type Shell } from "../completion/scripts.js";

const USAGE = "keel completion bash|zsh|fish";
const FLAGS = {} as const satisfies Flags;

const completion: Command = {
  name: "completion",
  summary: "print the shell completion script: bash, zsh or fish",
  usage: USAGE,
  flags: FLAGS,
  args: [SHELLS],
  run({ io, argv }) {
    const { positionals } = parseFlags(argv, FLAGS, USAGE);
    const shell = positionals[0];
    if (positionals.length !== 1 || !(SHELLS as readonly string[]).includes(shell as string)) {
      throw usageError(
        shell === undefined ? "completion needs a shell" : `no completion for "${positionals.join(" ")}"`,
        `usage: ${USAGE} (e.g. keel completion bash > ~/.local/share/bash-completion/completions/keel)`,
      );
    }
    io.out(SCRIPTS[shell as Shell].trimEnd());
    return EXIT.ok;
  },
};

export default completion;
