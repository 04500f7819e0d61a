// OpenSpec's structural rules for specs and changes, with the meanings `openspec validate` (v1.13.2) gives
// them, as pure functions over the model. The rule table, and every place where Keel deliberately differs,
// is in docs/openspec-compat.md; keep the two in step (tests/openspec-parity.test.ts checks the ids).
// @req VAL-4
import { scan } from "../../format/scan.js";
import type {
  Change,
  DeltaSection,
  DeltaSpec,
  Finding,
  Requirement,
  Scenario,
  Section,
  Severity,
  Span,
  Spec,
} from "../../model/types.js";

// ---------------------------------------------------------------------------------------------------------
// Thresholds and constants (OpenSpec: src/core/validation/constants.ts unless noted).

/** OpenSpec `MIN_PURPOSE_LENGTH` = 50: a shorter `## Purpose` is "too brief" (warning). */
export const OPENSPEC_MIN_PURPOSE_LENGTH = 50;
/** OpenSpec `MIN_WHY_SECTION_LENGTH` = 50: minimum length of a proposal's `## Why`. */
export const OPENSPEC_MIN_WHY_LENGTH = 50;
/** OpenSpec `MAX_WHY_SECTION_LENGTH` = 1000: maximum length of a proposal's `## Why`. */
export const OPENSPEC_MAX_WHY_LENGTH = 1000;
/** OpenSpec `MAX_REQUIREMENT_TEXT_LENGTH` = 500: longer requirement text gets an info finding. */
export const OPENSPEC_MAX_REQUIREMENT_TEXT_LENGTH = 500;
/** OpenSpec `MAX_DELTAS_PER_CHANGE` = 10: more requirement deltas than this suggests splitting the change. */
export const OPENSPEC_MAX_DELTAS_PER_CHANGE = 10;
/** OpenSpec `PURPOSE_PLACEHOLDER_PREFIX`: the Purpose `openspec archive` writes for a new capability. */
export const OPENSPEC_PURPOSE_PLACEHOLDER_PREFIX = "TBD - created by archiving change ";
/** OpenSpec `PURPOSE_PLACEHOLDER_SUFFIX`. */
export const OPENSPEC_PURPOSE_PLACEHOLDER_SUFFIX = ". Update Purpose after archive.";
/** Workflow schemas shipped inside the OpenSpec package (its `schemas/` folder). */
export const OPENSPEC_BUILTIN_SCHEMAS: readonly string[] = ["spec-driven"];

/** Every rule this module can emit, with its severity. The docs table lists exactly these ids. */
export const OPENSPEC_RULES = {
  "openspec/spec-missing-purpose": "error",
  "openspec/spec-missing-requirements": "error",
  "openspec/spec-no-requirements": "error",
  "openspec/spec-delta-header": "error",
  "openspec/requirement-outside-requirements": "error",
  "openspec/spec-duplicate-requirement": "error",
  "openspec/purpose-placeholder": "warning",
  "openspec/purpose-too-short": "warning",
  "openspec/requirement-too-long": "info",
  "openspec/requirement-no-scenario": "error",
  "openspec/requirement-missing-text": "error",
  "openspec/requirement-no-shall": "warning",
  "openspec/delta-at-specs-root": "error",
  "openspec/delta-non-requirement-header": "info",
  "openspec/delta-requirement-outside-section": "warning",
  "openspec/delta-no-sections": "error",
  "openspec/delta-empty-sections": "error",
  "openspec/delta-duplicate-requirement": "error",
  "openspec/renamed-duplicate": "error",
  "openspec/delta-conflict": "error",
  "openspec/modified-drops-scenarios": "error",
  "openspec/archive-would-refuse": "info",
  "openspec/change-no-deltas": "error",
  "openspec/skip-specs-invalid-metadata": "error",
  "openspec/skip-specs-conflict": "error",
  "openspec/skip-specs-accepted": "info",
  "openspec/proposal-missing-why": "info",
  "openspec/proposal-missing-what-changes": "info",
  "openspec/proposal-why-too-short": "info",
  "openspec/proposal-why-too-long": "info",
  "openspec/change-too-many-deltas": "info",
  "openspec/tasks-no-checkboxes": "warning",
  "openspec/task-number-group-mismatch": "warning",
  "openspec/task-number-duplicate": "warning",
  "openspec/archived-tasks-incomplete": "error",
} as const satisfies Record<string, Severity>;

export type OpenspecRuleId = keyof typeof OPENSPEC_RULES;

// ---------------------------------------------------------------------------------------------------------
// Names and text, read the way OpenSpec reads them.

/**
 * OpenSpec's `normalizeRequirementName`: a trailing ATX closing run (`### Requirement: Foo ###`) is not part
 * of the name; the rest is trimmed. Matching stays case- and interior-whitespace-sensitive.
 */
export function normalizeRequirementName(name: string): string {
  return name.replace(/[ \t]+#+[ \t]*$/, "").trim();
}

/** OpenSpec's `foldRequirementName`: the case- and whitespace-insensitive form used only to spot typos. */
export function foldRequirementName(name: string): string {
  return normalizeRequirementName(name).toLowerCase().replace(/\s+/g, " ");
}

/** The name OpenSpec would read from a requirement heading: the title, plus a Keel `{#ID}` if written. */
export function openspecName(title: string, explicitId: string | null): string {
  return normalizeRequirementName(explicitId ? `${title} {#${explicitId}}` : title);
}

function requirementName(req: Requirement): string {
  return openspecName(req.title, req.explicitId ? req.id : null);
}

/** OpenSpec's `containsShallOrMust`: SHALL or MUST, upper case, as whole words. */
export function containsShallOrMust(text: string): boolean {
  return /\b(SHALL|MUST)\b/.test(text);
}

const METADATA_LINE = /^\*\*[^*]+\*\*:/;

/**
 * OpenSpec's requirement body (`extractRequirementBody`) over Keel's normative text: non-blank lines outside
 * fenced code, each trimmed, joined with newlines; `**Key**: value` metadata lines count only when nothing
 * else is there. Keel's text already stops at the first sub-heading and excludes the marker line.
 */
export function requirementBody(req: Requirement): string {
  const text = req.text;
  if (text === "") return "";
  const captured: string[] = [];
  const metadata: string[] = [];
  for (const line of contentLines(text)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (METADATA_LINE.test(trimmed)) metadata.push(trimmed);
    else captured.push(trimmed);
  }
  return captured.length > 0 ? captured.join("\n") : metadata.join("\n");
}

/** Lines of `text` outside fenced code and HTML comment blocks (opacity as the format scanner sees it). */
function contentLines(text: string): string[] {
  if (!text.includes("```") && !text.includes("~~~") && !text.includes("<!--"))
    return text.split(/\r\n|\r|\n/);
  // A leading blank line keeps a text that opens with `---` from being read as front matter.
  const s = scan(`\n${text}`, "");
  const out: string[] = [];
  for (let i = 1; i < s.lines.length; i++) {
    const line = s.lines[i];
    if (line && !line.opaque) out.push(s.text.slice(line.start, line.end));
  }
  return out;
}

/** A scenario counts only when its heading has a body under it (OpenSpec's `hasScenarioBody`). */
export function scenarioHasBody(sc: Scenario): boolean {
  const nl = sc.raw.indexOf("\n");
  return nl !== -1 && sc.raw.slice(nl + 1).trim() !== "";
}

function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

// ---------------------------------------------------------------------------------------------------------
// Findings.

interface Where {
  file: string;
  line: number;
  col: number;
}

function at(span: Span | null | undefined, file: string): Where {
  return span ? { file: span.file, line: span.start.line, col: span.start.col } : { file, line: 1, col: 1 };
}

function make(rule: OpenspecRuleId, where: Where, message: string, hint: string, target?: string): Finding {
  const f: Finding = { rule, severity: OPENSPEC_RULES[rule], ...where, message, hint };
  if (target !== undefined) f.target = target;
  return f;
}

function within(inner: Span, outer: Span): boolean {
  return (
    inner.file === outer.file &&
    inner.start.offset >= outer.start.offset &&
    inner.start.offset < outer.end.offset
  );
}

function isRequirementsTitle(title: string): boolean {
  return title.toLowerCase() === "requirements";
}

const DELTA_SECTION_TITLE = /^(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements$/i;
const REQUIREMENT_HEADING_TEXT = /^Requirement:\s*(.+)$/i;

/** The `## Requirements` section OpenSpec reads: the first one. Later ones hold "outside" requirements. */
function mainRequirementsSection(spec: Spec): Section | null {
  return spec.sections.find((s) => isRequirementsTitle(s.title)) ?? null;
}

/** Requirements OpenSpec sees as the spec's own: those inside the first `## Requirements` section. */
function mainRequirements(spec: Spec): Requirement[] {
  const sec = mainRequirementsSection(spec);
  return sec ? spec.requirements.filter((r) => within(r.headingSpan, sec.span)) : [];
}

// ---------------------------------------------------------------------------------------------------------
// Specs: `openspec validate <spec>` / `openspec validate --specs`.

// @req VAL-2
/** OpenSpec's `findMainSpecStructureIssues`: delta headers, requirements outside the section, duplicates. */
export function openspecSpecStructure(spec: Spec): Finding[] {
  const out: Finding[] = [];
  const file = spec.file;
  const target = spec.capability;
  const main = mainRequirementsSection(spec);

  for (const sec of spec.sections) {
    if (DELTA_SECTION_TITLE.test(sec.title)) {
      out.push(
        make(
          "openspec/spec-delta-header",
          at(sec.headingSpan, file),
          `Main spec contains delta header "## ${sec.title}". Delta headers are only valid inside a change's specs/<capability>/spec.md and truncate the parsed ## Requirements section.`,
          "move these requirements into a change's delta spec, or merge them into `## Requirements`",
          target,
        ),
      );
    }
    if (isRequirementsTitle(sec.title)) continue;
    // Requirement headings in any other section are invisible to OpenSpec; Keel's spec model does not
    // keep them either, so they are found in the section's own text.
    const s = scan(sec.raw, file);
    for (const h of s.headings) {
      const m = h.level === 3 ? REQUIREMENT_HEADING_TEXT.exec(h.text) : null;
      if (!m) continue;
      const line = sec.span.start.line + h.lineIndex;
      out.push(outsideFinding(file, line, normalizeRequirementName(m[1] as string), target));
    }
  }

  for (const orphan of spec.orphans) {
    out.push(outsideFinding(file, orphan.span.start.line, normalizeRequirementName(orphan.title), target));
  }

  const seen = new Map<string, number>();
  for (const req of spec.requirements) {
    if (!main || !within(req.headingSpan, main.span)) {
      out.push(outsideFinding(file, req.headingSpan.start.line, requirementName(req), req.id));
      continue;
    }
    const name = requirementName(req);
    if (name === "") continue;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, req.headingSpan.start.line);
      continue;
    }
    out.push(
      make(
        "openspec/spec-duplicate-requirement",
        at(req.headingSpan, file),
        `Requirement header "### Requirement: ${name}" duplicates the requirement declared on line ${first}. Requirement names must be unique so spec updates cannot discard one block while updating another.`,
        "rename one of the two requirements, or merge them into one block",
        req.id,
      ),
    );
  }
  return out;
}

function outsideFinding(file: string, line: number, name: string, target: string): Finding {
  return make(
    "openspec/requirement-outside-requirements",
    { file, line, col: 1 },
    `Requirement header "### Requirement: ${name}" appears outside the main ## Requirements section, so OpenSpec does not see it.`,
    "move the requirement block under the first `## Requirements` heading",
    target,
  );
}

// @req VAL-2
export function openspecSpecRules(spec: Spec): Finding[] {
  const out: Finding[] = [];
  const file = spec.file;
  const target = spec.capability;
  const purposeSection = spec.sections.find((s) => s.title.toLowerCase() === "purpose") ?? null;
  const main = mainRequirementsSection(spec);
  const purpose = spec.purpose === null ? "" : normaliseNewlines(spec.purpose).trim();

  if (purpose === "") {
    out.push(
      make(
        "openspec/spec-missing-purpose",
        at(purposeSection?.headingSpan, file),
        purposeSection
          ? "Spec must have a Purpose section (the `## Purpose` section is empty)"
          : "Spec must have a Purpose section",
        "add a `## Purpose` section with a few sentences on what this capability is for",
        target,
      ),
    );
  }
  if (!main) {
    out.push(
      make(
        "openspec/spec-missing-requirements",
        at(null, file),
        "Spec must have a Requirements section",
        "add a `## Requirements` section holding `### Requirement: <name>` blocks, each with a `#### Scenario:`",
        target,
      ),
    );
  }

  out.push(...openspecSpecStructure(spec));

  if (purpose !== "") {
    const placeholderLine = purposePlaceholderLine(spec);
    if (placeholderLine !== null) {
      out.push(
        make(
          "openspec/purpose-placeholder",
          { file, line: placeholderLine, col: 1 },
          "Purpose section is still a placeholder (the sentence `openspec archive` writes for a new capability, or a leading TBD/TODO) rather than a Purpose anyone wrote.",
          "replace it with what this capability is for, editing the main spec directly",
          target,
        ),
      );
    } else if (purpose.length < OPENSPEC_MIN_PURPOSE_LENGTH) {
      out.push(
        make(
          "openspec/purpose-too-short",
          at(spec.purposeSpan, file),
          `Purpose section is too brief (less than ${OPENSPEC_MIN_PURPOSE_LENGTH} characters)`,
          `say in at least ${OPENSPEC_MIN_PURPOSE_LENGTH} characters what the capability is for and who relies on it`,
          target,
        ),
      );
    }
  }

  if (!main) return out;
  const reqs = mainRequirements(spec);
  const children = requirementChildren(spec, main, reqs);
  if (children.length === 0) {
    out.push(
      make(
        "openspec/spec-no-requirements",
        at(main.headingSpan, file),
        "Spec must have at least one requirement",
        "add a `### Requirement: <name>` block with SHALL/MUST text and a `#### Scenario:` under `## Requirements`",
        target,
      ),
    );
  }
  const reqByLine = new Map(reqs.map((r) => [r.headingSpan.start.line, r]));
  for (const child of children) {
    if (child.hasScenario) continue;
    const req = reqByLine.get(child.line);
    if (req) {
      const f = scenarioFinding(req, `Requirement "${requirementName(req)}"`, file);
      if (f) out.push(f);
      continue;
    }
    // OpenSpec reads every heading directly under `## Requirements` as a requirement, so a stray
    // `### Notes` heading must carry a scenario too.
    out.push(
      make(
        "openspec/requirement-no-scenario",
        { file, line: child.line, col: 1 },
        `"${child.text}" sits directly under ## Requirements, so OpenSpec reads it as a requirement, and it has no scenario. Requirement must have at least one scenario.`,
        `write it as a \`### Requirement: <name>\` block with a \`#### Scenario:\`, or move it out of \`## Requirements\``,
        target,
      ),
    );
  }
  for (const req of reqs) {
    const body = requirementBody(req);
    const label = `Requirement "${requirementName(req)}"`;
    const text = body || `Requirement: ${req.title}`;
    if (text.length > OPENSPEC_MAX_REQUIREMENT_TEXT_LENGTH) {
      out.push(
        make(
          "openspec/requirement-too-long",
          at(req.headingSpan, file),
          `Requirement text is very long (>${OPENSPEC_MAX_REQUIREMENT_TEXT_LENGTH} characters). Consider breaking it down.`,
          "split the requirement into smaller requirements, one behaviour each",
          req.id,
        ),
      );
    }
    // A nameless `### Requirement:` heading is not a requirement block for OpenSpec's body check.
    if (normalizeRequirementName(req.title) === "") continue;
    const keyword = keywordFinding(req, label, body, file);
    if (keyword) out.push(keyword);
  }
  return out;
}

function scenarioFinding(req: Requirement, label: string, file: string): Finding | null {
  if (req.scenarios.some(scenarioHasBody)) return null;
  const bare = req.scenarios.length > 0;
  return make(
    "openspec/requirement-no-scenario",
    at(req.headingSpan, file),
    `${label} must include at least one scenario${bare ? " (a scenario header with no body under it does not count)" : ""}`,
    bare
      ? "add steps under the scenario heading, e.g. `- **WHEN** ...` and `- **THEN** ...`"
      : "add a `#### Scenario: <name>` heading with `- **WHEN** ...` / `- **THEN** ...` steps (scenarios must be level-4 headings, not bullets)",
    req.id,
  );
}

function keywordFinding(req: Requirement, label: string, body: string, file: string): Finding | null {
  const inHeader = containsShallOrMust(req.title);
  const where = at(req.textSpan ?? req.headingSpan, file);
  if (body === "") {
    return make(
      "openspec/requirement-missing-text",
      where,
      inHeader
        ? `${label} must contain SHALL or MUST in the requirement body, not only in the header`
        : `${label} is missing requirement text`,
      inHeader
        ? 'move the SHALL/MUST statement to the line right after the "### Requirement: ..." heading'
        : "write the requirement as a sentence using SHALL or MUST right under its heading",
      req.id,
    );
  }
  if (containsShallOrMust(body)) return null;
  return make(
    "openspec/requirement-no-shall",
    where,
    inHeader
      ? `${label} should contain SHALL or MUST in the requirement body, not only in the header (RFC 2119 best practice for English specs)`
      : `${label} should contain SHALL or MUST (RFC 2119 best practice for English specs)`,
    "state the obligation with SHALL or MUST (upper case), e.g. `The system SHALL ...`",
    req.id,
  );
}

interface RequirementChild {
  /** Heading text, as written after the `#` markers. */
  text: string;
  line: number;
  hasScenario: boolean;
}

const HEADING_LINE = /^ {0,3}#{1,6}(?:[ \t]|$)/m;

/**
 * What OpenSpec's spec reader counts as the requirements of `## Requirements`: every heading directly under
 * it (whatever its level or title), each with "a scenario" when a heading directly under it has a body.
 * The model answers this without re-reading when every requirement has a level-4 scenario with a body,
 * nothing stray sits in the section and no heading precedes the first requirement; otherwise the section's
 * own text is scanned and the heading tree rebuilt the way OpenSpec builds it.
 */
function requirementChildren(spec: Spec, main: Section, reqs: Requirement[]): RequirementChild[] {
  const strays = spec.strayHeadings.some((h) => within(h.span, main.span));
  const first = reqs[0];
  const preamble = first
    ? main.raw.slice(0, first.headingSpan.start.offset - main.span.start.offset)
    : main.raw;
  const preambleHeading = HEADING_LINE.test(preamble.slice(preamble.indexOf("\n") + 1));
  if (
    !strays &&
    !preambleHeading &&
    reqs.length > 0 &&
    reqs.every((r) => r.scenarios.some(scenarioHasBody))
  ) {
    return reqs.map((r) => ({ text: r.title, line: r.headingSpan.start.line, hasScenario: true }));
  }
  const s = scan(main.raw, spec.file);
  const out: RequirementChild[] = [];
  for (const k of directChildren(s, 0)) {
    const h = s.headings[k];
    if (!h) continue;
    const hasScenario = directChildren(s, k).some((c) => headingHasBody(s, c));
    out.push({ text: h.text, line: main.span.start.line + h.lineIndex, hasScenario });
  }
  return out;
}

/** Indexes of the headings directly under heading `index` in OpenSpec's heading tree. */
function directChildren(s: ReturnType<typeof scan>, index: number): number[] {
  const parent = s.headings[index];
  if (!parent) return [];
  const out: number[] = [];
  let minSeen = Number.POSITIVE_INFINITY;
  for (let k = index + 1; k < s.headings.length; k++) {
    const h = s.headings[k];
    if (!h || h.level <= parent.level) break;
    if (h.level <= minSeen) {
      minSeen = h.level;
      out.push(k);
    }
  }
  return out;
}

/** Whether the lines under heading `index`, up to the next heading of its level or above, hold any text. */
function headingHasBody(s: ReturnType<typeof scan>, index: number): boolean {
  const h = s.headings[index];
  if (!h) return false;
  const next = s.headings.slice(index + 1).find((x) => x.level <= h.level);
  const end = next ? next.lineIndex : s.lines.length;
  for (let i = h.lineIndex + 1; i < end; i++) {
    const line = s.lines[i];
    if (line && s.text.slice(line.start, line.end).trim() !== "") return true;
  }
  return false;
}

const WORD_END = "(?![\\p{L}\\p{N}\\p{M}_])";
const MARKER_PUNCTUATION = "(?=[ \\t]*(?:$|\\n|[:\\-\\u2013\\u2014.,;()\\[\\]{}]))";
const LEADING_MARKER_SHOUTED = new RegExp(`^(?:TBD|TODO)${WORD_END}`, "u");
const LEADING_MARKER_PUNCTUATED = new RegExp(`^(?:TBD|TODO)${WORD_END}${MARKER_PUNCTUATION}`, "iu");

/** OpenSpec's `findPurposePlaceholderIssue`: the line of a placeholder Purpose, or null when it reads as written. */
function purposePlaceholderLine(spec: Spec): number | null {
  const raw = normaliseNewlines(spec.purpose ?? "");
  const prose = contentLines(raw).join("\n").trim();
  const first = spec.purposeSpan?.start.line ?? 1;
  if (LEADING_MARKER_SHOUTED.test(prose) || LEADING_MARKER_PUNCTUATED.test(prose)) return first;
  const suffixAt = prose.indexOf(OPENSPEC_PURPOSE_PLACEHOLDER_SUFFIX);
  if (suffixAt === -1 || prose.lastIndexOf(OPENSPEC_PURPOSE_PLACEHOLDER_PREFIX, suffixAt) === -1) return null;
  const prefixAt = raw.indexOf(OPENSPEC_PURPOSE_PLACEHOLDER_PREFIX);
  return prefixAt === -1 ? first : first + raw.slice(0, prefixAt).split("\n").length - 1;
}

// ---------------------------------------------------------------------------------------------------------
// Changes: `openspec validate <change>` / `openspec validate --changes` (OpenSpec's validateChangeDeltaSpecs).

interface NamedBlock {
  name: string;
  req: Requirement;
}

interface DeltaPlan {
  added: NamedBlock[];
  modified: NamedBlock[];
  removed: { name: string; span: Span }[];
  renamed: { from: string; to: string; span: Span }[];
}

function planOf(delta: DeltaSpec): DeltaPlan {
  const blocks = (op: DeltaSection["op"]): NamedBlock[] =>
    delta.sections
      .filter((s) => s.op === op)
      .flatMap((s) => s.requirements)
      .map((req) => ({ name: requirementName(req), req }))
      .filter((b) => b.name !== "");
  return {
    added: blocks("ADDED"),
    modified: blocks("MODIFIED"),
    removed: delta.sections
      .filter((s) => s.op === "REMOVED")
      .flatMap((s) => s.removed)
      .map((r) => ({ name: openspecName(r.title, r.id), span: r.span }))
      .filter((r) => r.name !== ""),
    renamed: delta.sections
      .filter((s) => s.op === "RENAMED")
      .flatMap((s) => s.renames)
      .map((r) => ({
        from: openspecName(r.from, r.fromId),
        to: openspecName(r.to, r.toId),
        span: r.span,
      })),
  };
}

function entryCount(plan: DeltaPlan): number {
  return plan.added.length + plan.modified.length + plan.removed.length + plan.renamed.length;
}

export interface OpenspecChangeOptions {
  /**
   * Names of the project's own OpenSpec workflow schemas (folders under `openspec/schemas/`). When given, a
   * `skip_specs` marker whose `schema:` is neither one of these nor built in is not honoured, as in OpenSpec.
   * When omitted, any schema name is accepted.
   */
  projectSchemas?: readonly string[];
}

// @req VAL-3
export function openspecChangeRules(
  change: Change,
  livingSpecs: ReadonlyMap<string, Spec>,
  options: OpenspecChangeOptions = {},
): Finding[] {
  // `openspec validate --all` validates open changes only; archived ones are for `--archived`.
  if (change.archived) return [];
  const out: Finding[] = [];
  let totalDeltas = 0;
  let rootLevelSpec = false;
  for (const delta of change.deltas) {
    if (delta.capability === "") {
      rootLevelSpec = true;
      out.push(
        make(
          "openspec/delta-at-specs-root",
          at(null, delta.file),
          "Delta spec found at specs/spec.md. Delta specs must live under a capability path (specs/<capability>/spec.md); a file at the specs/ root is ignored when the change is applied or archived.",
          "move the file to specs/<capability>/spec.md",
          change.id,
        ),
      );
      continue;
    }
    const result = deltaRules(change, delta, livingSpecs.get(delta.capability) ?? null);
    totalDeltas += result.entries;
    out.push(...result.findings);
  }

  const marker = skipSpecsMarker(change, options);
  const metaWhere = at(
    null,
    `${change.dir}/${change.layout === "openspec" ? ".openspec.yaml" : "change.yaml"}`,
  );
  const changeWhere = at(null, change.proposalFile ?? change.dir);
  if (marker.invalid !== null) {
    out.push(
      make(
        "openspec/skip-specs-invalid-metadata",
        metaWhere,
        `skip_specs is set but the change metadata is not valid, so the marker is not honoured (${marker.invalid})`,
        "fix the metadata (`schema: spec-driven`, `skip_specs: true`), or remove skip_specs",
        change.id,
      ),
    );
  }
  if (marker.declared && change.deltas.length > 0) {
    out.push(
      make(
        "openspec/skip-specs-conflict",
        metaWhere,
        "skip_specs is set in the change metadata but spec files exist under specs/",
        "remove skip_specs, or delete the delta spec files",
        change.id,
      ),
    );
  }
  if (totalDeltas === 0 && !rootLevelSpec) {
    if (!marker.declared) {
      out.push(
        make(
          "openspec/change-no-deltas",
          changeWhere,
          "Change must have at least one delta. No deltas found.",
          'add specs/<capability>/spec.md with `## ADDED|MODIFIED|REMOVED|RENAMED Requirements` sections; a change that changes no behaviour sets "skip_specs: true" in its metadata instead',
          change.id,
        ),
      );
    } else if (change.deltas.length === 0) {
      out.push(
        make(
          "openspec/skip-specs-accepted",
          metaWhere,
          "skip_specs is set: the change declares no spec-level behaviour changes, zero deltas accepted",
          "nothing to do; remove skip_specs if the change does alter behaviour",
          change.id,
        ),
      );
    }
  }
  out.push(...proposalRules(change, totalDeltas));
  return out;
}

function deltaRules(
  change: Change,
  delta: DeltaSpec,
  living: Spec | null,
): { entries: number; findings: Finding[] } {
  const out: Finding[] = [];
  const file = delta.file;
  const plan = planOf(delta);
  const err = (
    rule: OpenspecRuleId,
    where: Where,
    message: string,
    hint: string,
    target: string = change.id,
  ) => out.push(make(rule, where, message, hint, target));

  // Headings the delta reader skips inside ADDED/MODIFIED: non-requirement `###` and nameless requirements.
  const skipped: { text: string; span: Span; section: string }[] = [];
  for (const sec of delta.sections) {
    if (sec.op !== "ADDED" && sec.op !== "MODIFIED") continue;
    const section = `${sec.op} Requirements`;
    for (const h of delta.strayHeadings) if (within(h.span, sec.span)) skipped.push({ ...h, section });
    for (const r of sec.requirements) {
      if (requirementName(r) === "") skipped.push({ text: "Requirement:", span: r.headingSpan, section });
    }
  }
  skipped.sort((a, b) => a.span.start.offset - b.span.start.offset);
  for (const h of skipped) {
    const nameless = /^requirement:?$/i.test(h.text);
    err(
      "openspec/delta-non-requirement-header",
      at(h.span, file),
      nameless
        ? `Header "### ${h.text}" in ${h.section} is missing a requirement name and is ignored by validation.`
        : `Header "### ${h.text}" in ${h.section} is not a "### Requirement:" header and is ignored by validation.`,
      nameless
        ? 'add a name, e.g. "### Requirement: <name>"'
        : `use "### Requirement: ${h.text}" if it should be validated as a requirement`,
    );
  }
  for (const orphan of delta.orphans) {
    err(
      "openspec/delta-requirement-outside-section",
      at(orphan.span, file),
      `Requirement "${normalizeRequirementName(orphan.title)}" is outside every delta section, so it is ignored.`,
      'move it under "## ADDED Requirements", "## MODIFIED Requirements", "## REMOVED Requirements" or "## RENAMED Requirements"',
    );
  }

  const entries = entryCount(plan);
  if (entries === 0) {
    if (delta.sections.length > 0) {
      const ops = (["ADDED", "MODIFIED", "REMOVED", "RENAMED"] as const).filter((op) =>
        delta.sections.some((s) => s.op === op),
      );
      err(
        "openspec/delta-empty-sections",
        at(delta.sections[0]?.headingSpan, file),
        `Delta sections ${listOf(ops.map((op) => `## ${op} Requirements`))} were found, but no requirement entries parsed.`,
        'give each section at least one "### Requirement: <name>" block (REMOVED may list `- ### Requirement: <name>` bullets)',
      );
    } else {
      err(
        "openspec/delta-no-sections",
        at(null, file),
        "No delta sections found in this delta spec.",
        'add headers such as "## ADDED Requirements", or move non-delta notes outside specs/',
      );
    }
  }

  const addedNames = new Set<string>();
  const modifiedNames = new Set<string>();
  const removedNames = new Set<string>();
  for (const [op, blocks, names] of [
    ["ADDED", plan.added, addedNames],
    ["MODIFIED", plan.modified, modifiedNames],
  ] as const) {
    for (const { name, req } of blocks) {
      if (names.has(name)) {
        err(
          "openspec/delta-duplicate-requirement",
          at(req.headingSpan, file),
          `Duplicate requirement in ${op}: "${name}"`,
          `keep one "### Requirement: ${name}" block in ${op} Requirements`,
          req.id,
        );
      } else names.add(name);
      const label = `${op} "${name}"`;
      const body = requirementBody(req);
      const keyword = keywordFinding(req, label, body, file);
      if (keyword) out.push(keyword);
      const scenario = scenarioFinding(req, label, file);
      if (scenario) out.push(scenario);
    }
  }
  for (const { name, span } of plan.removed) {
    if (removedNames.has(name)) {
      err(
        "openspec/delta-duplicate-requirement",
        at(span, file),
        `Duplicate requirement in REMOVED: "${name}"`,
        "list each removed requirement once",
      );
    } else removedNames.add(name);
  }
  const renamedFrom = new Set<string>();
  const renamedTo = new Set<string>();
  for (const { from, to, span } of plan.renamed) {
    if (renamedFrom.has(from)) {
      err(
        "openspec/renamed-duplicate",
        at(span, file),
        `Duplicate FROM in RENAMED: "${from}"`,
        "rename each requirement once",
      );
    } else renamedFrom.add(from);
    if (renamedTo.has(to)) {
      err(
        "openspec/renamed-duplicate",
        at(span, file),
        `Duplicate TO in RENAMED: "${to}"`,
        "give each renamed requirement its own new name",
      );
    } else renamedTo.add(to);
  }

  // Cross-section conflicts within this delta file.
  const conflict = (message: string, hint: string, where: Where) =>
    err("openspec/delta-conflict", where, message, hint);
  const sectionWhere = (op: DeltaSection["op"]) =>
    at(delta.sections.find((s) => s.op === op)?.headingSpan, file);
  for (const n of modifiedNames) {
    if (removedNames.has(n)) {
      conflict(
        `Requirement present in both MODIFIED and REMOVED: "${n}"`,
        "keep it in one of the two sections",
        sectionWhere("MODIFIED"),
      );
    }
    if (addedNames.has(n)) {
      conflict(
        `Requirement present in both MODIFIED and ADDED: "${n}"`,
        "keep it in one of the two sections",
        sectionWhere("MODIFIED"),
      );
    }
  }
  for (const n of addedNames) {
    if (removedNames.has(n)) {
      conflict(
        `Requirement present in both ADDED and REMOVED: "${n}"`,
        "keep it in one of the two sections",
        sectionWhere("ADDED"),
      );
    }
  }
  for (const { from, to, span } of plan.renamed) {
    if (modifiedNames.has(from)) {
      conflict(
        `MODIFIED references old name from RENAMED. Use new header for "${to}"`,
        `write the MODIFIED block as "### Requirement: ${to}"`,
        at(span, file),
      );
    }
    if (addedNames.has(to)) {
      conflict(
        `RENAMED TO collides with ADDED for "${to}"`,
        "choose a different new name, or drop the ADDED block",
        at(span, file),
      );
    }
    const removedFold = [...removedNames].find((r) => foldRequirementName(r) === foldRequirementName(from));
    if (removedFold !== undefined) {
      conflict(
        `Requirement present in both RENAMED and REMOVED: "${from}"${removedFold === from ? "" : ` (REMOVED spells it "${removedFold}")`}`,
        "either rename the requirement or remove it, not both",
        at(span, file),
      );
    }
  }

  if (living && plan.modified.length > 0) out.push(...scenarioLoss(plan, living, file));

  if (!out.some((f) => f.severity === "error") && entries > 0) {
    const blocker = archiveBlocker(delta.capability, plan, living);
    if (blocker) {
      err(
        "openspec/archive-would-refuse",
        at(null, file),
        `Archive would refuse this delta: ${blocker}`,
        "make the delta match the current spec (exact requirement headers), or archive the change that introduces its target first",
      );
    }
  }
  return { entries, findings: out };
}

function listOf(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Scenario names, multiplicity-aware: names in `a` not matched by a name in `b`. */
function unmatched(a: string[], b: string[]): string[] {
  const remaining = new Map<string, number>();
  for (const n of b) remaining.set(n, (remaining.get(n) ?? 0) + 1);
  const out: string[] = [];
  for (const n of a) {
    const left = remaining.get(n) ?? 0;
    if (left > 0) remaining.set(n, left - 1);
    else out.push(n);
  }
  return out;
}

function scenarioNames(req: Requirement): string[] {
  return req.scenarios.map((s) => s.name);
}

/** OpenSpec's scenario-loss check (#1477): a MODIFIED block replaces the whole requirement. */
function scenarioLoss(plan: DeltaPlan, living: Spec, file: string): Finding[] {
  const current = new Map<string, Requirement>();
  for (const req of mainRequirements(living)) current.set(requirementName(req), req);
  const renamedFrom = new Map(plan.renamed.map((r) => [r.to, r.from]));
  const renamedAway = new Set(plan.renamed.map((r) => r.from));
  const out: Finding[] = [];
  for (const { name, req } of plan.modified) {
    if (renamedAway.has(name)) continue;
    const visited = new Set<string>();
    let key: string | undefined = name;
    let base: Requirement | undefined;
    while (key !== undefined && !visited.has(key)) {
      base = current.get(key);
      if (base) break;
      visited.add(key);
      key = renamedFrom.get(key);
    }
    if (!base) continue;
    const currentNames = scenarioNames(base);
    const incoming = scenarioNames(req);
    const missing = unmatched(currentNames, incoming);
    if (missing.length === 0) continue;
    const added = unmatched(incoming, currentNames);
    const count = (n: number) => `${n} ${n === 1 ? "scenario" : "scenarios"}`;
    const listed = added
      .slice(0, 3)
      .map((n) => `"${n}"`)
      .join(", ");
    const more = added.length > 3 ? ` and ${added.length - 3} more` : "";
    const balance =
      `The modified block has ${count(incoming.length)}; the current spec has ${count(currentNames.length)}. ` +
      (added.length === 0
        ? "It adds none."
        : `It adds ${count(added.length)} not in the current spec: ${listed}${more}.`);
    out.push(
      make(
        "openspec/modified-drops-scenarios",
        at(req.headingSpan, file),
        `MODIFIED "${name}" omits scenario(s) the current spec still has: ${missing.map((n) => `"${n}"`).join(", ")}. ${balance}`,
        "copy the omitted scenarios into the MODIFIED block: a MODIFIED requirement replaces the whole block, so archive refuses to drop them",
        req.id,
      ),
    );
  }
  return out;
}

function blockRaw(raw: string): string {
  return normaliseNewlines(raw).trim();
}

/**
 * A dry run of `openspec archive`'s merge (buildUpdatedSpec), reporting the first reason it would refuse
 * this delta. OpenSpec reports this as INFO only: the target may come from a sibling change not archived yet.
 */
function archiveBlocker(capability: string, plan: DeltaPlan, living: Spec | null): string | null {
  if (!living) {
    if (plan.modified.length > 0 || plan.renamed.length > 0) {
      return `${capability}: target spec does not exist; only ADDED requirements are allowed for new specs. MODIFIED and RENAMED operations require an existing spec.`;
    }
    return null;
  }
  const structure = openspecSpecStructure(living);
  if (structure.length > 0) {
    return `${capability}: target spec is structurally invalid and cannot be updated until fixed: line ${structure[0]?.line}: ${structure[0]?.message}`;
  }
  const blocks = new Map<string, { name: string; raw: string }>();
  for (const req of mainRequirements(living)) {
    const name = requirementName(req);
    blocks.set(name, { name, raw: req.raw });
  }
  const nearMiss = (key: string, except?: string) =>
    [...blocks.keys()].find((k) => k !== except && foldRequirementName(k) === foldRequirementName(key));
  const header = (name: string) => `"### Requirement: ${name}"`;

  for (const { from, to } of plan.renamed) {
    const source = blocks.get(from);
    if (!source) {
      if (blocks.has(to)) {
        const miss = nearMiss(from, to);
        if (miss !== undefined) {
          return `${capability} RENAMED failed for header ${header(from)} - source not found, but ${header(miss)} exists; fix the header to match it exactly`;
        }
        continue;
      }
      return `${capability} RENAMED failed for header ${header(from)} - source not found`;
    }
    if (blocks.has(to))
      return `${capability} RENAMED failed for header ${header(to)} - target already exists`;
    const miss = nearMiss(to, from);
    if (miss !== undefined) {
      return `${capability} RENAMED failed for header ${header(to)} - ${header(miss)} already exists and differs only in case or spacing; choose a distinct name`;
    }
    const lines = source.raw.split("\n");
    lines[0] = `### Requirement: ${to}`;
    blocks.delete(from);
    blocks.set(to, { name: to, raw: lines.join("\n") });
  }
  for (const { name } of plan.removed) {
    if (blocks.has(name)) {
      blocks.delete(name);
      continue;
    }
    const miss = nearMiss(name);
    if (miss !== undefined) {
      return `${capability} REMOVED failed for header ${header(name)} - not found, but ${header(miss)} exists; fix the header to match it exactly`;
    }
  }
  for (const { name, req } of plan.modified) {
    const base = blocks.get(name);
    if (!base) return `${capability} MODIFIED failed for header ${header(name)} - not found`;
    blocks.set(name, { name, raw: req.raw });
  }
  for (const { name, req } of plan.added) {
    const existing = blocks.get(name);
    if (existing) {
      if (blockRaw(existing.raw) === blockRaw(req.raw)) continue;
      return `${capability} ADDED failed for header ${header(name)} - already exists`;
    }
    const miss = nearMiss(name);
    if (miss !== undefined) {
      return `${capability} ADDED failed for header ${header(name)} - ${header(miss)} already exists and differs only in case or spacing; use MODIFIED with that exact header to change it, or choose a distinct name`;
    }
    blocks.set(name, { name, raw: req.raw });
  }
  return null;
}

const KEBAB_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/u;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The first way `meta` breaks OpenSpec's ChangeMetadataSchema (src/core/change-metadata/schema.ts), as
 * `field: problem`, or null when it conforms. Unknown keys are allowed, as in OpenSpec.
 */
export function openspecMetadataProblem(meta: Record<string, unknown>): string | null {
  const isString = (v: unknown): v is string => typeof v === "string";
  const { schema, created, goal, affected_areas, initiative, skip_specs, retire_capabilities } = meta;
  if (!isString(schema)) return "schema: expected a string";
  if (schema.length === 0) return "schema: schema is required";
  if (created !== undefined && !(isString(created) && ISO_DATE.test(created))) {
    return "created: created must be YYYY-MM-DD format";
  }
  if (goal !== undefined && !(isString(goal) && goal.length > 0)) return "goal: expected a non-empty string";
  if (
    affected_areas !== undefined &&
    !(Array.isArray(affected_areas) && affected_areas.every((a) => isString(a) && a.length > 0))
  ) {
    return "affected_areas: expected a list of non-empty strings";
  }
  if (initiative !== undefined) {
    if (typeof initiative !== "object" || initiative === null || Array.isArray(initiative)) {
      return "initiative: expected a mapping with store and id";
    }
    const link = initiative as Record<string, unknown>;
    for (const key of Object.keys(link)) {
      if (key !== "store" && key !== "id") return `initiative: unrecognized key "${key}"`;
    }
    if (!(isString(link.store) && KEBAB_ID.test(link.store))) {
      return "initiative.store: Store id must be kebab-case with lowercase letters, numbers, and single hyphen separators";
    }
    if (!(isString(link.id) && KEBAB_ID.test(link.id))) {
      return "initiative.id: Initiative id must be kebab-case with lowercase letters, numbers, and single hyphen separators";
    }
  }
  if (skip_specs !== undefined && typeof skip_specs !== "boolean") return "skip_specs: expected a boolean";
  if (retire_capabilities !== undefined && typeof retire_capabilities !== "boolean") {
    return "retire_capabilities: expected a boolean";
  }
  return null;
}

/** OpenSpec's `readSkipSpecsMarker`: is `skip_specs: true` declared, and honoured? */
function skipSpecsMarker(
  change: Change,
  options: OpenspecChangeOptions,
): { declared: boolean; invalid: string | null } {
  const meta = change.meta;
  if (!meta || !Object.hasOwn(meta, "skip_specs")) return { declared: false, invalid: null };
  // Keel's own change.yaml has its own schema (owned by the change model); only the flag is read there.
  if (change.layout !== "openspec") return { declared: meta.skip_specs === true, invalid: null };
  const problem = openspecMetadataProblem(meta);
  if (problem === null) {
    if (meta.skip_specs !== true) return { declared: false, invalid: null };
    const schema = meta.schema as string;
    const known =
      options.projectSchemas === undefined ||
      OPENSPEC_BUILTIN_SCHEMAS.includes(schema) ||
      options.projectSchemas.includes(schema);
    return known
      ? { declared: true, invalid: null }
      : { declared: false, invalid: `schema: unknown schema '${schema}'` };
  }
  if (meta.skip_specs === false) return { declared: false, invalid: null };
  return { declared: false, invalid: problem };
}

/**
 * Proposal rules. `openspec validate` never reads proposal.md; `openspec archive` runs these and prints them
 * as non-blocking "proposal warnings". Keel reports them as info so that the verdict stays the same.
 */
function proposalRules(change: Change, totalDeltas: number): Finding[] {
  if (change.proposalFile === null) return [];
  const out: Finding[] = [];
  const file = change.proposalFile;
  const section = (title: string) =>
    change.proposalSections.find((s) => s.title.toLowerCase() === title.toLowerCase()) ?? null;
  const why = change.why === null ? "" : normaliseNewlines(change.why).trim();
  const whatChanges = change.whatChanges === null ? "" : normaliseNewlines(change.whatChanges).trim();
  const whySection = section("Why");
  if (why === "") {
    out.push(
      make(
        "openspec/proposal-missing-why",
        at(whySection?.headingSpan, file),
        "Change must have a Why section",
        "add a `## Why` section: the problem or opportunity, in a few sentences",
        change.id,
      ),
    );
  } else if (why.length < OPENSPEC_MIN_WHY_LENGTH) {
    out.push(
      make(
        "openspec/proposal-why-too-short",
        at(whySection?.headingSpan, file),
        `Why section must be at least ${OPENSPEC_MIN_WHY_LENGTH} characters`,
        "explain the problem this change solves and who has it",
        change.id,
      ),
    );
  } else if (why.length > OPENSPEC_MAX_WHY_LENGTH) {
    out.push(
      make(
        "openspec/proposal-why-too-long",
        at(whySection?.headingSpan, file),
        `Why section should not exceed ${OPENSPEC_MAX_WHY_LENGTH} characters`,
        "keep Why to the motivation; move detail to design.md",
        change.id,
      ),
    );
  }
  if (whatChanges === "") {
    out.push(
      make(
        "openspec/proposal-missing-what-changes",
        at(section("What Changes")?.headingSpan, file),
        "Change must have a What Changes section",
        "add a `## What Changes` section listing the changes as bullets",
        change.id,
      ),
    );
  }
  if (totalDeltas > OPENSPEC_MAX_DELTAS_PER_CHANGE) {
    out.push(
      make(
        "openspec/change-too-many-deltas",
        at(null, file),
        `Consider splitting changes with more than ${OPENSPEC_MAX_DELTAS_PER_CHANGE} deltas (this one has ${totalDeltas})`,
        "split the change into smaller changes that can be reviewed and archived separately",
        change.id,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Task files (OpenSpec: src/core/validation/task-checkboxes.ts, task-numbering.ts, utils/task-progress.ts).
// The change model keeps only task counts, so these take the text of tasks.md.

/** OpenSpec's TASK_LINE_PATTERN: a list item with a one-token checkbox; every matching line counts. */
const TASK_LINE = /^\s*(?:[-*+]|\d{1,9}[.)])\s*\[(?:\s*([^\]\s]?)\s*\](?![([])|\s+\])\s*(.*)/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,9}[.)])\s+\S/;
const LEVEL_TWO_HEADING = /^ {0,3}##(?!#)(?:[ \t]+|[ \t]*\r?$)/;
const NUMBERED_GROUP_HEADING = /^ {0,3}##[ \t]+(\d+)\.(?:[ \t]|\r?$)/;
const TASK_ID = /^(\d+(?:\.\d+)+(?:[A-Za-z]+)?)(?=\s|$)/;

function indentColumns(line: string): number {
  let column = 0;
  for (const ch of line) {
    if (ch === " ") column += 1;
    else if (ch === "\t") column += 4 - (column % 4);
    else break;
  }
  return column;
}

/**
 * Task-file warnings for an open change: a tracked tasks.md with list items but no checkbox at all, and
 * (for OpenSpec's built-in spec-driven workflow) task numbers that disagree with their `## N.` group or
 * repeat. `tasksText` is the content of `change.tasksFile`.
 */
export function openspecTaskRules(change: Change, tasksText: string): Finding[] {
  if (change.archived || change.tasksFile === null) return [];
  const file = change.tasksFile;
  const out: Finding[] = [];
  const lines = tasksText.split("\n");
  const tasks = lines.filter((l) => TASK_LINE.test(l));
  if (tasks.length === 0) {
    const s = scan(tasksText, file);
    const first = s.lines.findIndex((line) => {
      if (line.opaque) return false;
      const t = s.text.slice(line.start, line.end);
      return LIST_ITEM.test(t) && indentColumns(t) < 4 && !/^\s*<!--/.test(t);
    });
    if (first !== -1) {
      out.push(
        make(
          "openspec/tasks-no-checkboxes",
          { file, line: first + 1, col: 1 },
          "This change counts as 0 tasks: no line in its task file is a checkbox, so progress shows no work and archive has nothing to flag as incomplete.",
          'write each task as "- [ ] 1.1 Description"',
          change.id,
        ),
      );
    }
  }
  const schema = change.meta?.schema;
  const specDriven = schema === undefined || schema === "spec-driven";
  if (!specDriven || !lines.some((l) => NUMBERED_GROUP_HEADING.test(l))) return out;
  const firstSeen = new Map<string, number>();
  let group: string | undefined;
  lines.forEach((line, index) => {
    if (LEVEL_TWO_HEADING.test(line)) group = NUMBERED_GROUP_HEADING.exec(line)?.[1];
    if (group === undefined) return;
    const task = TASK_LINE.exec(line);
    const id = task ? TASK_ID.exec((task[2] ?? "").trim())?.[1] : undefined;
    if (!id) return;
    const lineNumber = index + 1;
    const taskGroup = id.split(".")[0] as string;
    if (taskGroup.replace(/^0+(?=\d)/, "") !== group.replace(/^0+(?=\d)/, "")) {
      out.push(
        make(
          "openspec/task-number-group-mismatch",
          { file, line: lineNumber, col: 1 },
          `Task "${id}" is under group ${group}, but its leading number points to group ${taskGroup}.`,
          `move it to group ${taskGroup} or renumber it`,
          change.id,
        ),
      );
    }
    const earlier = firstSeen.get(id);
    if (earlier === undefined) firstSeen.set(id, lineNumber);
    else {
      out.push(
        make(
          "openspec/task-number-duplicate",
          { file, line: lineNumber, col: 1 },
          `Task ID "${id}" is duplicated; it was first declared on line ${earlier}.`,
          "give each task its own number",
          change.id,
        ),
      );
    }
  });
  return out;
}

/** `openspec validate --archived`: an archived change must have every task done. */
export function openspecArchivedChangeRules(change: Change): Finding[] {
  if (!change.archived) return [];
  const incomplete = Math.max(change.tasks.total - change.tasks.done, 0);
  if (incomplete === 0) return [];
  return [
    make(
      "openspec/archived-tasks-incomplete",
      at(null, change.tasksFile ?? change.dir),
      `${incomplete} incomplete task${incomplete === 1 ? "" : "s"} (${change.tasks.done}/${change.tasks.total} completed)`,
      "tick the finished tasks, or move the unfinished work into a new change",
      change.id,
    ),
  ];
}
