import { searchAnswer } from "../../core/api/queries.js";
import type { SearchHitRecord } from "../../core/query/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE = "keel search <text> [-n|--limit <n>] [--json]";
export const DEFAULT_LIMIT = 20;

const SEARCH_FLAGS = {
  limit: {
    type: "string",
    short: "n",
    value: "n",
    help: `show at most n results, 1 to 10000; default ${DEFAULT_LIMIT}`,
  },
} as const satisfies Flags;

// @req QRY-3, QRY-5
const command: Command = {
  name: "search",
  summary: "full-text search over requirements, ranked",
  usage: USAGE,
  flags: SEARCH_FLAGS,
  async run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, SEARCH_FLAGS, USAGE);
    const text = positionals.join(" ").trim();
    if (text === "") throw usageError("search needs some text", `usage: ${USAGE}`);
    let limit = DEFAULT_LIMIT;
    if (values.limit !== undefined) {
      limit = Number(values.limit);
      if (!/^\d+$/.test(values.limit) || limit < 1 || limit > 10_000) {
        throw usageError(
          `--limit must be a whole number from 1 to 10000, not "${values.limit}"`,
          "e.g. --limit 50",
        );
      }
    }
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const out = await searchAnswer(project, text, limit, scopedRoot(project, global.scope));
    if (global.json) printJson(io, out);
    else io.out(render(io, out.results, out.total));
    return EXIT.ok;
  },
};

/** The snippet with each match highlighted: bold yellow on a terminal, `**…**` otherwise. */
export function highlight(io: Io, text: string, ranges: Array<[number, number]>): string {
  let out = "";
  let at = 0;
  for (const [a, b] of ranges) {
    const m = text.slice(a, b);
    out += text.slice(at, a) + (io.color ? paint(io, ["bold", "yellow"], m) : `**${m}**`);
    at = b;
  }
  return out + text.slice(at);
}

function render(io: Io, results: SearchHitRecord[], total: number): string {
  if (results.length === 0) return "no matches";
  const lines: string[] = [];
  results.forEach((h, i) => {
    const label = h.kind === "spec" ? `${h.id} (purpose)` : h.id;
    const title = highlight(io, h.title, h.titleHighlights);
    lines.push(
      `${paint(io, "dim", `${i + 1}.`)} ${paint(io, "bold", label)}  ${title}  ${paint(io, "dim", `${h.file}:${h.line}`)}`,
    );
    if (h.snippet) lines.push(`   ${highlight(io, h.snippet, h.highlights)}`);
  });
  const more = total > results.length ? ` (showing ${results.length}; --limit N for more)` : "";
  lines.push("", paint(io, "dim", `${total} match${total === 1 ? "" : "es"}${more}`));
  return lines.join("\n");
}

export default command;
