import { relative } from "node:path";
import { compareFindings } from "../../core/validate/finding.js";
import { keepAnswer, keptAnswer } from "../../core/validate/replay.js";
import { buildReport, PROFILES, type Profile, type ValidationReport } from "../../core/validate/report.js";
import { allOf, resolveTarget, type Selector, underFolder } from "../../core/validate/target.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type SpecRoot, scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import {
  LISTING_FLAGS,
  LISTING_USAGE,
  type ListingFlags,
  listingLines,
  parseListingFlags,
} from "../finding-report.js";
import { type Io, jsonText, paint } from "../output.js";
import { withProgress } from "../progress.js";

const USAGE = `keel validate [path|id] [--strict] [--profile keel|openspec|speckit|kiro] ${LISTING_USAGE} [--json]`;

const FLAGS = {
  strict: { type: "boolean", help: "warnings fail too (exit 1); default: keel.yaml's validate.strict" },
  profile: {
    type: "string",
    value: "keel|openspec|speckit|kiro",
    help: "the rule set to judge by (default keel)",
    complete: PROFILES,
  },
  ...LISTING_FLAGS,
} as const satisfies Flags;

// @req VAL-1, VAL-17, VAL-18
const command: Command = {
  name: "validate",
  summary: "check specs and changes; exit 1 on errors (or warnings with --strict)",
  usage: USAGE,
  flags: FLAGS,
  args: ["requirement"],
  async run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 1) throw usageError("validate takes at most one path or ID", `usage: ${USAGE}`);
    const profile = (values.profile ?? "keel") as Profile;
    if (!PROFILES.includes(profile)) {
      throw usageError(
        `unknown profile "${values.profile}"`,
        `use --profile keel (default), or one of ${PROFILES.filter((p) => p !== "keel").join(", ")}`,
      );
    }
    const listing = parseListingFlags(values);
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const config = loadConfig(project);
    const target = positionals[0];
    // Everything besides the project's files that shapes the answer (a target is resolved from the folder).
    const key = JSON.stringify([
      values.strict ?? null,
      profile,
      target ?? null,
      global.scope,
      relative(project.root, global.cwd),
      global.json,
      listing,
      io.color,
    ]);
    const kept = keptAnswer(project, config, key);
    if (kept) {
      io.out(kept.text);
      return kept.code as ExitCode;
    }
    // Loaded only now: the analysis is most of the code, and a kept answer needs none of it.
    const { analyseProject } = await import("../../core/validate/engine.js");
    const { result, ownerOf, stats } = withProgress(io, global.json, "validate: files parsed", (onProgress) =>
      analyseProject(project, config, { onProgress }),
    );
    const report = buildReport(result, {
      strict: values.strict ?? config.validate.strict,
      profile,
      rules: config.validate.rules,
      ...selection(
        target ? resolveTarget(target, project.root, global.cwd, result, ownerOf) : null,
        scopedRoot(project, global.scope),
      ),
    });
    report.findings.sort(compareFindings);
    const answer = {
      code: report.ok ? EXIT.ok : EXIT.findings,
      text: global.json ? jsonText(report) : humanText(io, report, listing),
    };
    io.out(answer.text);
    keepAnswer(project, stats, key, answer);
    return answer.code;
  },
};

/** The target's selection, kept to the `--root` scope's folder when there is one. */
function selection(target: Selector | null, root: SpecRoot | null): { select?: Selector } {
  const selectors = [target, root && underFolder(root.dir)].filter((s): s is Selector => s !== null);
  return selectors.length === 0 ? {} : { select: allOf(selectors) };
}

// @req VAL-16, RPT-1
function humanText(io: Io, report: ValidationReport, listing: ListingFlags): string {
  const lines = listingLines(io, report.findings, listing);
  const s = report.summary;
  const counts = `${s.errors} error${s.errors === 1 ? "" : "s"}, ${s.warnings} warning${s.warnings === 1 ? "" : "s"}, ${s.info} info`;
  const scope = `${s.specs} spec${s.specs === 1 ? "" : "s"} (${s.requirements} requirements), ${s.changes} change${s.changes === 1 ? "" : "s"}`;
  const verdict = report.ok
    ? paint(io, "green", "valid")
    : paint(io, "red", report.strict && s.errors === 0 ? "invalid (strict)" : "invalid");
  if (lines.length > 0) lines.push("");
  lines.push(`${verdict}: ${counts} in ${scope}`);
  return lines.join("\n");
}

export default command;
