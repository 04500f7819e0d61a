import { type AnalyzeReport, analyzeProject, CATEGORIES } from "../../core/analyze/index.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { findingLines, parseFailOn } from "../findings.js";
import { FAIL_ON_FLAG } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE = "keel analyze [--fail-on error|warning] [--json]";

// @req TSK-11
const command: Command = {
  name: "analyze",
  summary:
    "cross-artifact report: coverage gaps, unwired gates, missing files, inconsistent terms, unread headings",
  usage: USAGE,
  flags: FAIL_ON_FLAG,
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FAIL_ON_FLAG, USAGE);
    if (positionals.length > 0) throw usageError("analyze takes no arguments", `usage: ${USAGE}`);
    const failOn = parseFailOn(values["fail-on"]);
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const report = analyzeProject(project, loadConfig(project), failOn);
    if (global.json) printJson(io, report);
    else printHuman(io, report);
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

const LABEL: Record<(typeof CATEGORIES)[number], string> = {
  "requirements-without-tasks": "requirements without tasks",
  "tasks-without-requirements": "tasks without requirements",
  "unwired-gates": "unwired gates",
  "missing-files": "missing files",
  "inconsistent-terms": "inconsistent terms",
  "unread-headings": "unread headings",
};

function printHuman(io: Io, report: AnalyzeReport): void {
  const lines = findingLines(io, report.findings);
  if (lines.length > 0) lines.push("");
  const s = report.summary;
  lines.push(CATEGORIES.map((c) => `${LABEL[c]}: ${s.categories[c]}`).join(" · "));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const verdict = report.ok ? paint(io, "green", "ok") : paint(io, "red", "failed");
  lines.push(
    `${verdict} (--fail-on ${report.failOn}): ${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}, ${s.info} info over ${plural(s.requirements, "requirement")} and ${plural(s.tasks, "task")}`,
  );
  io.out(lines.join("\n"));
}

export default command;
