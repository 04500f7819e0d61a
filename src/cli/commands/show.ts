// `keel show <id>`: a requirement, spec or change, for a person in a terminal or a script (--json). Its text is
// delivered as an agent receives it (core/scan/deliver.ts): whoever runs it, a terminal must never render a
// bidi override or print a secret, and an agent running the command is told what is untrusted. The flags are
// painted where the terminal has colour, and the output ends with what was done (`sanitized` under --json).
import { showAnswer } from "../../core/api/queries.js";
import { openChangesPhrase, proposedPhrase } from "../../core/changes/proposed.js";
import type { ChangeRecord, RequirementRecord, ShowResult, SpecRecord } from "../../core/query/index.js";
import { type DeliveryLog, deliveryLog } from "../../core/scan/deliver.js";
import { securityPolicy } from "../../core/scan/policy.js";
import { deliverChangeRecord, deliverRequirement, sanitizedNote } from "../../core/scan/records.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { padCell, widestOf } from "../table.js";

const USAGE = "keel show <id> [--json]   (a requirement ID, a capability, or a change ID)";

// @req QRY-2, QRY-5, TRU-2
const command: Command = {
  name: "show",
  summary: "show a spec, change or requirement by id",
  usage: USAGE,
  flags: {},
  args: ["requirement"],
  async run({ io, global, argv }) {
    const { positionals } = parseFlags(argv, {}, USAGE);
    const id = positionals[0];
    if (id === undefined || positionals.length > 1) {
      throw usageError("show takes exactly one ID", `usage: ${USAGE}`);
    }
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const { answer, found, suggestions } = await showAnswer(project, id, scopedRoot(project, global.scope));
    if (!found || !answer) {
      throw usageError(
        `no requirement, spec or change "${id}"`,
        suggestions.length > 0
          ? `did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?`
          : "run `keel list requirements` for requirement IDs, `keel list` for specs and changes",
      );
    }
    const log = deliveryLog(securityPolicy(loadConfig(project)));
    const shown = deliverShown(found, log);
    const sanitized = log.actions();
    if (global.json) {
      // `sanitized` only when delivery did anything: a clean answer is REST's `GET /api/requirements/{id}`.
      printJson(io, { ...answer, item: shown.item, ...(sanitized.length > 0 ? { sanitized } : {}) });
      return EXIT.ok;
    }
    const note = sanitizedNote(sanitized);
    io.out(markFlags(io, note === null ? render(io, shown) : `${render(io, shown)}\n\n${note}`));
    return EXIT.ok;
  },
};

function deliverShown(found: ShowResult, log: DeliveryLog): ShowResult {
  if (found.kind === "requirement") return { ...found, item: deliverRequirement(found.item, log) };
  if (found.kind === "change") return { ...found, item: deliverChangeRecord(found.item, log) };
  const s = found.item;
  const target = `spec ${s.capability}`;
  const line = (t: string) => log.inline(t, target);
  const item: SpecRecord = {
    ...s,
    title: s.title === null ? null : line(s.title),
    purpose: s.purpose === null ? null : log.block(s.purpose, target),
    requirements: s.requirements.map((r) => ({ ...r, title: log.inline(r.title, `requirement ${r.id}`) })),
    openQuestions: s.openQuestions.map((q) => ({ ...q, text: line(q.text) })),
  };
  return { ...found, item };
}

/** What delivery put in the text, painted so that a reader's eye finds it: escapes, redactions, fences. */
const FLAG_MARKS =
  /⟦[^⟧\n]*⟧|\[REDACTED: [^\]\n]*\]|<<(?:end of )?untrusted content [0-9a-f]{16}[^\n]*?>>(?=\n|$)/gu;

function markFlags(io: Io, text: string): string {
  return io.color ? text.replace(FLAG_MARKS, (m) => paint(io, "yellow", m)) : text;
}

function render(io: Io, found: ShowResult): string {
  const body =
    found.kind === "requirement"
      ? renderRequirement(io, found.item)
      : found.kind === "spec"
        ? renderSpec(io, found.item)
        : renderChange(io, found.item);
  if (found.duplicates.length === 0) return body;
  const also = found.duplicates.map((d) => `${d.file}:${d.line}`).join(", ");
  const what =
    found.kind === "requirement" ? "this ID" : found.kind === "spec" ? "this capability" : "this change ID";
  return `${body}\n\n${paint(io, "yellow", "note:")} ${what} is also defined at ${also}`;
}

function fields(io: Io, rows: Array<[string, string | null | undefined]>): string {
  const kept = rows.filter((r): r is [string, string] => r[1] !== null && r[1] !== undefined && r[1] !== "");
  const width = Math.max(...kept.map(([k]) => k.length));
  return kept.map(([k, v]) => `  ${paint(io, "dim", k.padEnd(width))}  ${v}`).join("\n");
}

function indent(text: string, by = "  "): string {
  return text
    .split(/\r?\n/)
    .map((l) => (l.trim() === "" ? "" : by + l))
    .join("\n");
}

export function provenanceLine(r: RequirementRecord): string {
  const p = r.provenance;
  const parts: string[] = [];
  if (p.origin) parts.push(`origin ${p.origin}`);
  if (p.basis) parts.push(p.basis);
  if (p.actor) parts.push(`actor ${p.actor}`);
  if (p.tool) parts.push(`tool ${p.tool}`);
  if (p.model) parts.push(`model ${p.model}`);
  if (p.change) parts.push(`change ${p.change}`);
  if (p.at) parts.push(`at ${p.at}`);
  return parts.length > 0 ? parts.join(" · ") : "not recorded";
}

function renderRequirement(io: Io, r: RequirementRecord): string {
  const out = [
    `${paint(io, "bold", r.id)}  ${r.title}`,
    ...(r.proposed ? [`  ${paint(io, "yellow", proposedPhrase(r.proposed))}`] : []),
    fields(io, [
      ["status", r.status ?? "not set"],
      ["open changes", r.openChanges && openChangesPhrase(r.openChanges)],
      ["provenance", provenanceLine(r)],
      ["fingerprint", r.fingerprint],
      ["EARS", r.ears ?? "none recognised"],
      ["location", `${r.file}:${r.line}:${r.col}`],
      ["capability", r.capability],
      ["ID", r.explicitId ? "explicit" : "derived from the title"],
      ["references", r.references.join(", ")],
      [
        "markers",
        Object.entries(r.markerExtra)
          .map(([k, v]) => (v ? `${k}: ${v}` : k))
          .join(" · "),
      ],
    ]),
    "",
    r.text === "" ? paint(io, "dim", "(no normative text)") : r.text,
  ];
  for (const s of r.scenarios) {
    out.push("", `${paint(io, "bold", "Scenario:")} ${s.name}`);
    for (const st of s.steps)
      out.push(`  ${st.keyword ? `${paint(io, "cyan", st.keyword)} ` : "- "}${st.text}`);
  }
  if (r.scenarios.length === 0) out.push("", paint(io, "dim", "(no scenarios)"));
  return out.join("\n");
}

function renderSpec(io: Io, s: SpecRecord): string {
  const out = [
    `${paint(io, "bold", s.capability)}${s.title ? `  ${s.title}` : ""}`,
    fields(io, [
      ["status", s.status ?? "not set"],
      ["file", s.file],
      ["layout", s.layout],
      ["problem", s.problem],
      [
        "front matter",
        s.frontMatter
          ? Object.entries(s.frontMatter)
              .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
              .join(" · ")
          : null,
      ],
    ]),
  ];
  if (s.purpose) out.push("", paint(io, "bold", "Purpose"), indent(s.purpose));
  out.push("", paint(io, "bold", `Requirements (${s.requirements.length})`));
  // The line numbers line up after the titles, however wide their characters are.
  const idWidth = widestOf(s.requirements.map((r) => r.id));
  const titleWidth = widestOf(s.requirements.map((r) => r.title));
  for (const r of s.requirements) {
    out.push(
      `  ${padCell(r.id, idWidth)}  ${(r.status ?? "-").padEnd(10)}  ${padCell(r.title, titleWidth)}  ${paint(io, "dim", `:${r.line}`)}`,
    );
  }
  if (s.openQuestions.length > 0) {
    out.push("", paint(io, "bold", "Open questions"));
    for (const q of s.openQuestions)
      out.push(`  [${q.resolved ? "x" : " "}] ${q.text}  ${paint(io, "dim", `:${q.line}`)}`);
  }
  return out.join("\n");
}

function renderChange(io: Io, c: ChangeRecord): string {
  const d = c.counts;
  const out = [
    `${paint(io, "bold", c.id)}  ${c.status}${c.archived ? " (archived)" : ""}`,
    fields(io, [
      ["folder", c.dir],
      ["layout", c.layout],
      ["proposal", c.proposalFile ?? "missing"],
      ["tasks", c.tasksFile ? `${c.tasks.done}/${c.tasks.total} done` : "no tasks.md"],
      ["deltas", `${d.added} added · ${d.modified} modified · ${d.removed} removed · ${d.renamed} renamed`],
    ]),
  ];
  if (c.why) out.push("", paint(io, "bold", "Why"), indent(c.why));
  if (c.whatChanges) out.push("", paint(io, "bold", "What Changes"), indent(c.whatChanges));
  for (const delta of c.deltas) {
    out.push("", `${paint(io, "bold", delta.capability)}  ${paint(io, "dim", delta.file)}`);
    for (const sec of delta.sections) {
      for (const r of sec.requirements) out.push(`  ${sec.op.padEnd(8)}  ${r.id}  ${r.title}`);
      for (const r of sec.removed) out.push(`  ${sec.op.padEnd(8)}  ${r.id ?? r.title}`);
      for (const r of sec.renames) out.push(`  ${sec.op.padEnd(8)}  ${r.from} → ${r.to}`);
    }
  }
  return out.join("\n");
}

export default command;
