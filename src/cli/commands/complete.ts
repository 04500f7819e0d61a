// `keel __complete -- <words>`: the candidates for the last word, asked by the completion scripts. Never fails the
// user's typing: a project Keel cannot read completes its names to nothing.
import { EXIT } from "../../workspace/errors.js";
import type { Command } from "../command.js";
import { answerText, complete } from "../completion/engine.js";
import { projectValues } from "../completion/values.js";
import { commandTable } from "../dispatch.js";

const command: Command = {
  name: "__complete",
  summary: "the completion candidates at the cursor (run by the completion scripts)",
  usage: "keel __complete -- <word>...",
  flags: {},
  async run({ io, global, argv }) {
    const words = argv[0] === "--" ? argv.slice(1) : argv;
    const typed = words.pop() ?? "";
    const answer = await complete(words, typed, commandTable(), projectValues(global));
    io.out(answerText(answer).trimEnd());
    return EXIT.ok;
  },
};

export default command;
