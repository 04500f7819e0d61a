// The context pack as Markdown: the gathered data becomes items in order of relevance (each a heading, lines
// that may be cut from the end, and a closing part), and the kept items plus a footer become the pack.
// Deterministic: no clock, no machine paths, only what the project holds.
import { FENCE_NOTE, summarizeActions } from "../scan/deliver.js";
import type { SanitizeAction } from "../scan/types.js";
import type {
  ContextData,
  FileContent,
  GuidanceContent,
  Omission,
  RequirementView,
  TaskRef,
} from "./gather.js";

export type SectionKind =
  | "task"
  | "security"
  | "requirement"
  | "boundaries"
  | "verification"
  | "dependencies"
  | "notes"
  | "findings"
  | "principle"
  | "guidance"
  | "design"
  | "file"
  | "reference"
  | "related";

export interface ContextItem {
  kind: SectionKind;
  ref: string;
  /**
   * Relevance, 1 (the task) to 7 (related tasks): the trimmer leaves out the highest first. The constitution
   * and the project's guidance are 5; design notes, referenced files and requirements 6.
   */
  rank: number;
  /** Always kept with the item. */
  head: string[];
  /** May be cut from the end, with a marker saying how much went. */
  body: string[];
  /** Kept after the (possibly cut) body: a closing code fence. */
  tail: string[];
  /** `whole`: never cut (the task); `head`: never left out, cut down to its head at most (covered requirements). */
  keep: "whole" | "head" | "none";
  /** The body is the inside of a code fence that `tail` closes, so a cut never leaves a fence open. */
  fenced: boolean;
  /** For a requirement: its fingerprint, so a reader of the JSON need not parse it out of the text. */
  fingerprint?: string;
}

const SEPARATOR = "\n\n";

function lines(text: string): string[] {
  const t = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "");
  return t === "" ? [] : t.split("\n");
}

function taskLine(t: TaskRef): string {
  if (!t.known) return `- [?] ${t.key}: names no task`;
  const box = t.status === "done" ? "[x]" : "[ ]";
  return `- ${box} ${t.key}: ${t.title} (${t.status}; ${t.file}:${t.line})`;
}

function requirementItem(
  r: RequirementView,
  kind: "requirement" | "reference",
  groupHead: string[],
  via: string | null,
): ContextItem {
  const meta = [`status: ${r.status}`, `fingerprint: ${r.fingerprint}`, `${r.file}:${r.line}`];
  if (r.origin) meta.push(r.origin);
  if (via) meta.push(`covered via ${via}`);
  const body = lines(r.text);
  for (const s of r.scenarios) body.push("", ...lines(s));
  return {
    kind,
    ref: r.id,
    rank: kind === "requirement" ? 2 : 6,
    head: [...groupHead, `### ${r.id}: ${r.title}`, `- ${meta.join(" · ")}`],
    body,
    tail: [],
    keep: kind === "requirement" ? "head" : "none",
    fenced: false,
    fingerprint: r.fingerprint,
  };
}

const LANGUAGES: Record<string, string> = { md: "markdown", yml: "yaml", mjs: "js", cjs: "js", mts: "ts" };

/** A file's text in a code fence longer than any backtick run inside it; `note` follows its path. */
function fileItem(
  f: { path: string; text: string },
  kind: "guidance" | "design" | "file",
  groupHead: string[],
  note: string,
): ContextItem {
  const longest = Math.max(0, ...[...f.text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  const ext = /\.([A-Za-z0-9]+)$/.exec(f.path)?.[1]?.toLowerCase() ?? "";
  return {
    kind,
    ref: f.path,
    rank: kind === "guidance" ? 5 : 6,
    head: [
      ...groupHead,
      `### ${f.path}${note === "" ? "" : ` (${note})`}`,
      `${fence}${LANGUAGES[ext] ?? ext}`,
    ],
    body: lines(f.text),
    tail: [fence],
    keep: "none",
    fenced: true,
  };
}

function referencedBy(f: FileContent): string {
  return f.from.length > 0 ? `referenced by ${f.from.join(", ")}` : "";
}

/** Why a steering file is in the pack, in Kiro's terms. */
function guidanceNote(g: GuidanceContent): string {
  if (g.inclusion === "always") return "steering, included always";
  if (g.inclusion === "fileMatch") return `steering, matches ${g.patterns.map((p) => `\`${p}\``).join(", ")}`;
  return `steering, ${g.inclusion}, asked for by name`;
}

/**
 * What delivery did to the pack's text, right after the task and never cut: an agent reads how to take the
 * fences before it meets one. Absent when nothing was flagged.
 */
function securityItem(key: string, sanitized: readonly SanitizeAction[]): ContextItem {
  return {
    kind: "security",
    ref: key,
    rank: 1,
    head: [
      "## Untrusted content",
      "Keel flagged text in this pack and changed it before handing it over:",
      ...summarizeActions(sanitized).map((l) => `- ${l}`),
      FENCE_NOTE,
    ],
    body: [],
    tail: [],
    keep: "whole",
    fenced: false,
  };
}

/** The pack's items, most relevant first; `sanitized` is what delivery did to the data's text (sanitize.ts). */
export function contextItems(data: ContextData, sanitized: readonly SanitizeAction[] = []): ContextItem[] {
  const items: ContextItem[] = [];
  const t = data.task;
  const facts = [`status: ${t.status}`];
  if (t.priority !== null) facts.push(`priority: P${t.priority}`);
  if (t.phase) facts.push(`phase: ${t.phase}`);
  if (t.story) facts.push(`story: ${t.story}`);
  const head = [`# Context pack: ${t.key}`, "", `## Task ${t.key}: ${t.title}`, `- ${facts.join(" · ")}`];
  head.push(`- source: ${t.file}:${t.line}`);
  if (t.parents.length > 0)
    head.push(`- parents: ${t.parents.map((p) => `${p.key} ${p.title}`).join(" › ")}`);
  if (t.details.length > 0) head.push("- details:", ...t.details.map((d) => `  - ${d}`));
  items.push({ kind: "task", ref: t.key, rank: 1, head, body: [], tail: [], keep: "whole", fenced: false });
  if (sanitized.length > 0) items.push(securityItem(t.key, sanitized));

  const byDefault = data.coveredByDefault;
  const coveredHead = byDefault
    ? [
        "## Covered requirements",
        `- by default: the task names no \`covers\`, so it covers what change ${byDefault} adds, modifies or renames`,
        "",
      ]
    : ["## Covered requirements", ""];
  if (data.covered.length === 0) {
    const none = byDefault
      ? `- none: the task names no \`covers\`, and change ${byDefault} adds, modifies or renames no requirement`
      : "- none: the task covers no requirement";
    items.push({
      kind: "requirement",
      ref: t.key,
      rank: 2,
      head: ["## Covered requirements", none],
      body: [],
      tail: [],
      keep: "head",
      fenced: false,
    });
  }
  data.covered.forEach((c, i) => {
    const group = i === 0 ? coveredHead : [];
    if (c.requirement) items.push(requirementItem(c.requirement, "requirement", group, c.via));
    else {
      const via = c.via ? ` (covered via ${c.via})` : "";
      items.push({
        kind: "requirement",
        ref: c.id,
        rank: 2,
        head: [...group, `### ${c.id}: not found in any spec or open change${via}`],
        body: [],
        tail: [],
        keep: "head",
        fenced: false,
      });
    }
  });

  const list = (kind: SectionKind, title: string, intro: string, values: string[]): ContextItem => ({
    kind,
    ref: t.key,
    rank: 3,
    head: [`## ${title}`],
    body: values.length > 0 ? [intro, ...values.map((v) => `- \`${v}\``)] : ["- none declared"],
    tail: [],
    keep: "none",
    fenced: false,
  });
  items.push(list("boundaries", "Boundaries", "Touch only files matching:", t.boundaries));
  items.push(list("verification", "Verification", "The task is checked by running:", t.verification));
  if (data.dependencies.length > 0) {
    items.push({
      kind: "dependencies",
      ref: t.key,
      rank: 3,
      head: ["## Dependencies (blocking)"],
      body: data.dependencies.map(taskLine),
      tail: [],
      keep: "none",
      fenced: false,
    });
  }

  if (data.notes.length > 0) {
    const body: string[] = [];
    for (const n of [...data.notes].reverse()) {
      const [first = "", ...rest] = lines(n.text);
      body.push(`- ${n.at} · ${n.author}: ${first}`, ...rest.map((l) => `  ${l}`));
    }
    items.push({
      kind: "notes",
      ref: t.key,
      rank: 4,
      head: ["## Handoff notes (newest first)"],
      body,
      tail: [],
      keep: "none",
      fenced: false,
    });
  }

  if (data.findings.length > 0) {
    const body: string[] = [];
    for (const f of [...data.findings].reverse()) {
      const [first = "", ...rest] = lines(f.text);
      const about = f.requirement === null ? "" : ` (${f.requirement})`;
      body.push(`- ${f.severity}${about} · ${f.at} · ${f.author}: ${first}`, ...rest.map((l) => `  ${l}`));
    }
    items.push({
      kind: "findings",
      ref: t.key,
      rank: 4,
      head: ["## Findings (newest first)"],
      body,
      tail: [],
      keep: "none",
      fenced: false,
    });
  }

  const c = data.constitution;
  c?.principles.forEach((p, i) => {
    const gate = p.gate === null ? "no gate" : `gate: \`${p.gate}\``;
    items.push({
      kind: "principle",
      ref: p.id,
      rank: 5,
      head: [...(i === 0 ? [`## Constitution (${c.file})`, ""] : []), `### ${p.id}: ${p.title} (${gate})`],
      body: lines(p.text),
      tail: [],
      keep: "none",
      fenced: false,
    });
  });

  data.guidance.forEach((g, i) => {
    items.push(fileItem(g, "guidance", i === 0 ? ["## Guidance", ""] : [], guidanceNote(g)));
  });
  data.design.forEach((f, i) => {
    items.push(fileItem(f, "design", i === 0 ? ["## Design notes", ""] : [], ""));
  });
  data.files.forEach((f, i) => {
    items.push(fileItem(f, "file", i === 0 ? ["## Referenced files", ""] : [], referencedBy(f)));
  });
  data.references.forEach((r, i) => {
    items.push(requirementItem(r, "reference", i === 0 ? ["## Referenced requirements", ""] : [], null));
  });

  data.related.forEach((r, i) => {
    items.push({
      kind: "related",
      ref: r.key,
      rank: 7,
      head: [...(i === 0 ? ["## Related tasks (informational)"] : []), taskLine(r)],
      body: [],
      tail: [],
      keep: "none",
      fenced: false,
    });
  });
  return items;
}

/** A fence left open by a cut, closed with the same characters. */
function closeFence(kept: string[]): string[] {
  let open: string | null = null;
  for (const l of kept) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(l);
    if (!m) continue;
    const marker = m[1] as string;
    if (open === null) open = marker;
    else if (marker[0] === open[0] && marker.length >= open.length) open = null;
  }
  return open === null ? [] : [open];
}

/** The item's text with `m` body lines kept (all of them when `m` is the body's length). */
export function renderItem(item: ContextItem, m: number): string {
  const kept = item.body.slice(0, m);
  const out = [...item.head, ...kept];
  if (m < item.body.length && !item.fenced) out.push(...closeFence(kept));
  out.push(...item.tail);
  if (m < item.body.length) {
    const n = item.body.length - m;
    out.push(`… [${n} more line${n === 1 ? "" : "s"} left out to fit the token budget]`);
  }
  // Group blank lines between a heading and an empty cut are noise.
  while (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out.join("\n");
}

const REASONS: Record<Omission["reason"], string> = {
  budget: "over the token budget",
  missing: "referenced but not found",
  "outside-project": "outside the project, not read",
  "not-a-file": "not a file",
  unreadable: "could not be read as text",
  "too-large": "larger than 1 MiB, not read",
  "unknown-requirement": "no such requirement",
};

/** `principle P-1, P-2; file docs/a.md`: by kind, in order; a section about the task itself by its kind alone. */
function byKind(list: Omission[], key: string): string {
  const groups: { kind: string; refs: string[] }[] = [];
  for (const o of list) {
    let g = groups[groups.length - 1];
    if (!g || g.kind !== o.kind) {
      g = { kind: o.kind, refs: [] };
      groups.push(g);
    }
    if (o.ref !== key) g.refs.push(o.ref);
  }
  return groups.map((g) => (g.refs.length > 0 ? `${g.kind} ${g.refs.join(", ")}` : g.kind)).join("; ");
}

const sumTokens = (list: Omission[]) => list.reduce((n, o) => n + (o.tokens ?? 0), 0);

/**
 * The footer: the pack's task and budget, and everything left out — compactly, since it is paid for out of
 * the same budget (the JSON output has each item with its own token count).
 */
export function renderFooter(
  key: string,
  budget: number,
  tokenizer: string,
  omitted: Omission[],
  overBudget: boolean,
): string {
  const dropped = omitted.filter((o) => o.reason === "budget" && !o.truncated);
  const cut = omitted.filter((o) => o.reason === "budget" && o.truncated);
  const other = omitted.filter((o) => o.reason !== "budget");
  const head = `---\nContext pack for ${key} · budget ${budget} tokens (${tokenizer})`;
  const out = [omitted.length === 0 ? `${head} · nothing left out` : head];
  if (dropped.length > 0)
    out.push(`Left out, over the budget (${sumTokens(dropped)} tokens): ${byKind(dropped, key)}`);
  if (cut.length > 0) out.push(`Cut short, over the budget (${sumTokens(cut)} tokens): ${byKind(cut, key)}`);
  if (other.length > 0)
    out.push(`Not included: ${other.map((o) => `${o.kind} ${o.ref} (${REASONS[o.reason]})`).join("; ")}`);
  if (overBudget)
    out.push("Over budget: the task and its covered requirements' IDs and fingerprints are never left out.");
  return out.join("\n");
}

/** The pack as printed: the sections, a blank line between each, then the footer. */
export function renderPack(sections: string[], footer: string): string {
  return `${[...sections, footer].join(SEPARATOR)}\n`;
}
