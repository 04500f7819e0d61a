import { type StatusAnswer, statusAnswer } from "../../core/api/status.js";
import { LAYOUT_INFO } from "../../format/layouts/info.js";
import type { Layout } from "../../model/types.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { sidecarFile } from "../../workspace/sidecars.js";
import { type Command, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { table } from "../table.js";
import { deltaSummary } from "./list.js";

const USAGE = "keel status [--json]";
/** Open changes listed by name before the rest are summed up, to keep the summary on one screen. */
const MAX_CHANGES = 10;

// @req QRY-4, QRY-5
const command: Command = {
  name: "status",
  summary: "one-screen summary of the project",
  usage: USAGE,
  flags: {},
  async run({ io, global, argv }) {
    const { positionals } = parseFlags(argv, {}, USAGE);
    if (positionals.length > 0) throw usageError("status takes no arguments", `usage: ${USAGE}`);
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const status = await statusAnswer(project, global.scope);
    if (global.json) printJson(io, status);
    else io.out(render(io, status));
    return EXIT.ok;
  },
};

type Status = StatusAnswer;

function ago(at: number): string {
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

function breakdown(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "-" : entries.map(([k, n]) => `${k} ${n}`).join(" · ");
}

/** One line per layout found, saying once what its files cannot hold and whether Keel writes into them. */
function layoutLines(io: Io, s: Status): string[] {
  const head = (label: string) => paint(io, "bold", label.padEnd(13));
  const imported = s.project.imported.map(
    (name) =>
      `${head("imported")}${LAYOUT_INFO[name as Layout].label} ${paint(io, "dim", "· converted into keel/ by keel import; its files are not read (keel.yaml imported:)")}`,
  );
  return [
    ...s.layouts.map((l, i) => {
      const notes = [
        l.lacks.length > 0
          ? `holds no ${l.lacks.map((h) => h.replace("-", " ")).join(" or ")}: Keel keeps them in ${sidecarFile(l.name as Layout)}`
          : "",
        l.writesTasks ? "" : "read only",
      ].filter((n) => n !== "");
      return `${head(i === 0 ? "layouts" : "")}${l.label} (${l.where})${notes.length > 0 ? paint(io, "dim", ` · ${notes.join(" · ")}`) : ""}`;
    }),
    ...imported,
  ];
}

function render(io: Io, s: Status): string {
  const head = (label: string) => paint(io, "bold", label.padEnd(13));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const lines = [
    `${paint(io, "bold", s.project.name)}  ${paint(io, "dim", `(${s.layouts.map((l) => l.label).join(" + ")} layout)`)}`,
    "",
    ...layoutLines(io, s),
    ...(s.project.roots ?? []).map(
      (r, i) =>
        `${head(i === 0 ? "roots" : "")}${r.name} ${paint(io, "dim", `(${r.dir}: ${r.layouts.map((l) => LAYOUT_INFO[l].label).join(" + ")})`)}`,
    ),
    `${head("specs")}${plural(s.specs.count, "spec")} · ${plural(s.specs.requirements, "requirement")}`,
    `${head("  by status")}${breakdown(s.specs.byStatus)}`,
    `${head("  by origin")}${breakdown(s.specs.byOrigin)}`,
    ...(s.specs.unread.headings > 0
      ? [
          `${head("  unread")}${paint(io, "yellow", plural(s.specs.unread.headings, "requirement-like heading"))} not read: ${s.specs.unread.first.join(", ")} (keel validate)`,
        ]
      : []),
    `${head("constitution")}${
      s.constitution
        ? `${plural(s.constitution.principles, "principle")} (${s.constitution.gates} with a gate)`
        : "none"
    }`,
    `${head("changes")}${s.changes.open} open · ${s.changes.archived} archived · ${plural(s.changes.overlaps, "overlap")}`,
  ];
  if (s.changes.items.length > 0) {
    const shown = s.changes.items.slice(0, MAX_CHANGES);
    const rows = shown.map((c) => [
      c.id,
      c.status,
      `tasks ${c.tasks.done}/${c.tasks.total}`,
      deltaSummary(c.deltas),
      c.overlaps > 0 ? paint(io, "yellow", plural(c.overlaps, "overlap")) : "",
    ]);
    lines.push(table(io, null, rows, "  "));
    if (s.changes.items.length > shown.length) {
      lines.push(
        paint(io, "dim", `  … and ${s.changes.items.length - shown.length} more (keel list changes)`),
      );
    }
  }
  const v = s.validation;
  const verdict = v.ok ? paint(io, "green", "valid") : paint(io, "red", "invalid");
  lines.push(
    `${head("validation")}${verdict}: ${plural(v.errors, "error")} · ${plural(v.warnings, "warning")} · ${v.info} info${
      v.ok && v.errors + v.warnings === 0 ? "" : "  (keel validate for details)"
    }`,
  );
  const i = s.index;
  const work = i.rebuilt
    ? `rebuilt (${plural(i.parsed, "file")} parsed)`
    : i.parsed + i.removed > 0
      ? `refreshed: ${i.parsed} parsed again, ${i.removed} removed`
      : `up to date${i.refreshedAt ? ` (last change indexed ${ago(Date.parse(i.refreshedAt))})` : ""}`;
  const what = i.walked ? plural(i.checked, "file") : `${i.checked} files and folders`;
  lines.push(
    `${head("index")}${work} · ${what} checked${i.persistent ? "" : " · in memory (.keel/ not writable)"}`,
  );
  return lines.join("\n");
}

export default command;
