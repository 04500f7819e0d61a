import { analyseProject } from "../../core/validate/engine.js";
import { compareFindings } from "../../core/validate/finding.js";
import { buildReport, PROFILES, type Profile, type ValidationReport } from "../../core/validate/report.js";
import { resolveTarget } from "../../core/validate/target.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { findingLines } from "../findings.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE = "keel validate [path|id] [--strict] [--profile keel|openspec|speckit|kiro] [--json]";

// @req VAL-1, VAL-17, VAL-18
const command: Command = {
  name: "validate",
  summary: "check specs and changes; exit 1 on errors (or warnings with --strict)",
  usage: USAGE,
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(
      argv,
      { strict: { type: "boolean" }, profile: { type: "string" } },
      USAGE,
    );
    if (positionals.length > 1) throw usageError("validate takes at most one path or ID", `usage: ${USAGE}`);
    const profile = (values.profile ?? "keel") as Profile;
    if (!PROFILES.includes(profile)) {
      throw usageError(
        `unknown profile "${values.profile}"`,
        `use --profile keel (default), or one of ${PROFILES.filter((p) => p !== "keel").join(", ")}`,
      );
    }
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const config = loadConfig(project);
    const { result, ownerOf } = analyseProject(project, config);
    const target = positionals[0];
    const report = buildReport(result, {
      strict: values.strict ?? config.validate.strict,
      profile,
      rules: config.validate.rules,
      ...(target ? { select: resolveTarget(target, project.root, global.cwd, result, ownerOf) } : {}),
    });
    report.findings.sort(compareFindings);
    if (global.json) printJson(io, report);
    else printHuman(io, report);
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

// @req VAL-16
function printHuman(io: Io, report: ValidationReport): void {
  const lines = findingLines(io, report.findings);
  const s = report.summary;
  const counts = `${s.errors} error${s.errors === 1 ? "" : "s"}, ${s.warnings} warning${s.warnings === 1 ? "" : "s"}, ${s.info} info`;
  const scope = `${s.specs} spec${s.specs === 1 ? "" : "s"} (${s.requirements} requirements), ${s.changes} change${s.changes === 1 ? "" : "s"}`;
  const verdict = report.ok
    ? paint(io, "green", "valid")
    : paint(io, "red", report.strict && s.errors === 0 ? "invalid (strict)" : "invalid");
  if (lines.length > 0) lines.push("");
  lines.push(`${verdict}: ${counts} in ${scope}`);
  io.out(lines.join("\n"));
}

export default command;
