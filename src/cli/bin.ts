// The `keel` binary, bundled as CommonJS (dist/keel.cjs). Node starts a CommonJS file about 20 ms sooner than an
// ES module, because it need not start its ES module loader, so the answers that need no command code — the
// version and the top-level help, byte for byte what the CLI proper prints — are given here. Every other command
// line loads the CLI proper, dist/keel.mjs (cli/main.ts).
// @req CLI-7
import { pathToFileURL } from "node:url";
import { VERSION } from "../model/version.js";
import { TOP_HELP } from "./summaries.js";
import { endOnClosedPipe } from "./terminal.js";

/** The answer for the command lines that need no command code, or null for all the others. */
function quickAnswer(argv: readonly string[]): { text: string; code: number } | null {
  const words = argv.filter((a) => a !== "--json");
  const json = words.length < argv.length;
  if (words.length > 1) return null;
  const [word] = words;
  if (word === "--version" || word === "-v") {
    return { text: json ? JSON.stringify({ version: VERSION }) : VERSION, code: 0 };
  }
  // `--json` changes neither form of the help.
  if (word === undefined) return { text: TOP_HELP, code: 2 };
  return word === "help" || word === "--help" || word === "-h" ? { text: TOP_HELP, code: 0 } : null;
}

const quick = quickAnswer(process.argv.slice(2));
if (quick) {
  endOnClosedPipe();
  process.stdout.write(`${quick.text}\n`);
  process.exitCode = quick.code;
} else {
  // Beside this file in dist/; loading it runs the CLI with this process's arguments.
  import(pathToFileURL(`${__dirname}/keel.mjs`).href);
}
