// Requirement blocks as text: reading one block on its own, taking it apart for the three-way merge, and
// replacing, inserting, renaming or removing a whole block in a spec. Like format/edit.ts (which these edits
// build on), every edit changes only the bytes of its block, keeps the file's line endings, and checks its
// result by parsing it again, so an edit never silently changes anything else in the file.
import { addRequirement, EditError, lineEnding, removeRequirement, type SpecRef } from "../../format/edit.js";
import { REQUIREMENT_HEADING } from "../../format/requirement.js";
import { parseSpec } from "../../format/spec.js";
import { derivedRequirementId, splitExplicitId } from "../../model/ids.js";
import type { Requirement } from "../../model/types.js";

const WRAP = "## Requirements\n\n";

export function lf(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

function withFinalNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** Splits text after the end of its last non-blank line: [core, trailing line breaks and blank lines]. */
export function splitTrailingBlank(text: string): [string, string] {
  let i = text.length;
  while (i > 0 && /\s/.test(text[i - 1] as string)) i--;
  if (i === 0) return ["", text];
  // Trailing spaces of the last line stay with the core: only line breaks and blank lines make the gap.
  let j = i;
  while (j < text.length && text[j] !== "\n" && text[j] !== "\r") j++;
  return [text.slice(0, j), text.slice(j)];
}

/** The block without trailing blank lines, LF line ends: what two versions of a block are compared by. */
export function blockCore(raw: string): string {
  return splitTrailingBlank(lf(raw))[0];
}

export interface ParsedBlock {
  req: Requirement;
  /** The block's text (LF, ending with a line break) that the offsets in `req` point into, minus `offset`. */
  text: string;
  offset: number;
}

/** Parses one requirement block on its own; null when the text is not exactly one requirement block. */
export function parseBlock(raw: string, capability: string): ParsedBlock | null {
  const text = WRAP + withFinalNewline(lf(raw));
  const parsed = parseSpec(text, "block.md", capability);
  const req = parsed.spec.requirements[0];
  if (
    parsed.spec.requirements.length !== 1 ||
    !req ||
    req.span.start.offset !== WRAP.length ||
    req.span.end.offset !== text.length
  ) {
    return null;
  }
  return { req, text, offset: WRAP.length };
}

export interface ScenarioPart {
  name: string;
  /** The heading line with its line break. */
  head: string;
  /** The lines after the heading up to the last non-blank one (no final line break). */
  body: string;
  /** Line breaks and blank lines after the body. */
  gap: string;
}

/** A block taken apart; joining the parts in order (see `joinParts`) gives the block back byte for byte. */
export interface BlockParts {
  /** The heading line with its line break. */
  head: string;
  /** Between the heading and the normative text: blank lines and the marker line. */
  preamble: string;
  /** The normative text, without its final line break. */
  text: string;
  /** Between the normative text and the first scenario. */
  afterText: string;
  scenarios: ScenarioPart[];
}

export function splitBlock(raw: string, capability: string): BlockParts | null {
  const parsed = parseBlock(raw, capability);
  if (!parsed) return null;
  const { req, text, offset } = parsed;
  const headEnd = text.indexOf("\n", req.headingSpan.start.offset) + 1;
  const firstScenario = req.scenarios[0]?.span.start.offset ?? text.length;
  let preamble: string;
  let body = "";
  let afterText = "";
  if (req.textSpan) {
    preamble = text.slice(headEnd, req.textSpan.start.offset);
    body = text.slice(req.textSpan.start.offset, req.textSpan.end.offset);
    afterText = text.slice(req.textSpan.end.offset, firstScenario);
  } else preamble = text.slice(headEnd, firstScenario);
  const scenarios: ScenarioPart[] = req.scenarios.map((sc) => {
    const scRaw = text.slice(sc.span.start.offset, sc.span.end.offset);
    const nl = scRaw.indexOf("\n");
    const head = nl === -1 ? scRaw : scRaw.slice(0, nl + 1);
    const [core, gap] = splitTrailingBlank(scRaw.slice(head.length));
    return { name: sc.name, head, body: core, gap };
  });
  return { head: text.slice(offset, headEnd), preamble, text: body, afterText, scenarios };
}

export function joinParts(p: BlockParts): string {
  let out = p.head + p.preamble + p.text + p.afterText;
  for (const sc of p.scenarios) out += sc.head + sc.body + sc.gap;
  return out;
}

/** The requirement's title from a heading line, and its explicit ID if any. */
export function headingOf(head: string): { title: string; id: string | null } {
  const text = head.replace(/^\s*#{1,6}\s*/, "").trim();
  const m = REQUIREMENT_HEADING.exec(text);
  return splitExplicitId(m ? (m[1] as string) : text);
}

/** The block with ` {#ID}` on its heading (OpenSpec deltas name requirements by title only). */
export function withHeadingId(raw: string, id: string): string {
  const nl = raw.indexOf("\n");
  const head = nl === -1 ? raw : raw.slice(0, nl);
  const rest = nl === -1 ? "" : raw.slice(nl);
  const cr = head.endsWith("\r") ? "\r" : "";
  const line = cr ? head.slice(0, -1) : head;
  if (splitExplicitId(line.replace(/^\s*#{1,6}\s*Requirement:\s*/i, "")).id !== null) return raw;
  return `${line.trimEnd()} {#${id}}${cr}${rest}`;
}

/** The block with its heading's title replaced (the explicit ID, if any, is kept). */
export function withTitle(raw: string, title: string): string {
  const nl = raw.indexOf("\n");
  const head = nl === -1 ? raw : raw.slice(0, nl);
  const rest = nl === -1 ? "" : raw.slice(nl);
  const cr = head.endsWith("\r") ? "\r" : "";
  const line = cr ? head.slice(0, -1) : head;
  const m = /^(\s*#{1,6}\s*Requirement:\s*)/i.exec(line);
  const prefix = m ? (m[1] as string) : "### Requirement: ";
  const { id } = splitExplicitId(line.slice(prefix.length));
  return `${prefix}${title}${id !== null ? ` {#${id}}` : ""}${cr}${rest}`;
}

function refuse(what: string): never {
  throw new EditError("invalid-content", `edit refused: ${what}`);
}

function find(source: string, spec: SpecRef, id: string): { reqs: Requirement[]; index: number } {
  const reqs = parseSpec(source, spec.file ?? "spec.md", spec.capability).spec.requirements;
  const hits = reqs.flatMap((r, k) => (r.id === id ? [k] : []));
  if (hits.length === 0) {
    throw new EditError(
      "requirement-not-found",
      `no requirement with ID ${id} in ${spec.file ?? "the spec"}`,
    );
  }
  if (hits.length > 1) {
    throw new EditError(
      "ambiguous-requirement",
      `${spec.file ?? "the spec"} has ${hits.length} requirements with ID ${id}; give each an explicit {#ID} first`,
    );
  }
  return { reqs, index: hits[0] as number };
}

/**
 * Replaces requirement `id`'s whole block with `block` (any line endings; converted to the file's). The blank
 * lines after the old block are kept. `expectId`: the ID the new block must have (default: `id`).
 */
export function replaceBlock(
  source: string,
  spec: SpecRef,
  id: string,
  block: string,
  expectId = id,
): string {
  const { reqs, index } = find(source, spec, id);
  const req = reqs[index] as Requirement;
  const eol = lineEnding(source);
  const [, gap] = splitTrailingBlank(req.raw);
  const [core] = splitTrailingBlank(lf(block));
  const replacement = (eol === "\n" ? core : core.split("\n").join(eol)) + gap;
  const result = source.slice(0, req.span.start.offset) + replacement + source.slice(req.span.end.offset);
  const after = parseSpec(result, spec.file ?? "spec.md", spec.capability).spec.requirements;
  if (after.length !== reqs.length) refuse("the new block would change the number of requirements");
  for (let k = 0; k < reqs.length; k++) {
    if (k === index) continue;
    const a = reqs[k] as Requirement;
    const b = after[k] as Requirement;
    if (a.id !== b.id || a.fingerprint !== b.fingerprint) refuse(`the new block would change ${a.id}`);
  }
  const edited = after[index] as Requirement;
  if (edited.id !== expectId) refuse(`the new block has ID ${edited.id}, expected ${expectId}`);
  const alone = parseBlock(block, spec.capability);
  if (!alone || alone.req.fingerprint !== edited.fingerprint) {
    refuse("the new block would not be read back as written");
  }
  return result;
}

let insertions = 0;

/** Adds a requirement block at the end of the last `## Requirements` section (created when missing). */
export function insertBlock(source: string, spec: SpecRef, block: string): string {
  const alone = parseBlock(block, spec.capability);
  if (!alone) refuse("the added text is not exactly one requirement block");
  const existing = new Set(
    parseSpec(source, spec.file ?? "spec.md", spec.capability).spec.requirements.map((r) => r.id),
  );
  let placeholder: string;
  do placeholder = `keel-insertion-point-${++insertions}`;
  while (existing.has(placeholder));
  const marked = addRequirement(source, spec, { title: "Keel insertion point", id: placeholder, text: "" });
  return replaceBlock(marked, spec, placeholder, block, alone.req.id);
}

export function removeBlock(source: string, spec: SpecRef, id: string): string {
  return removeRequirement(source, spec, id);
}

/** Renames requirement `id`; returns the new text and the requirement's ID after the rename. */
export function renameBlock(
  source: string,
  spec: SpecRef,
  id: string,
  title: string,
): { text: string; id: string } {
  const { reqs, index } = find(source, spec, id);
  const req = reqs[index] as Requirement;
  const newId = req.explicitId ? req.id : derivedRequirementId(spec.capability, title);
  const text = replaceBlock(source, spec, id, withTitle(lf(req.raw), title), newId);
  return { text, id: newId };
}
