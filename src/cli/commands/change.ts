// `keel change <subcommand>`: change proposals — new, list, show, diff, status, apply, reject, revert, resolve.
// Subcommands are dispatched through SUBCOMMANDS; another module adds one with a single entry there.
// @req CHG-1, CHG-3
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { changeListAnswer, changeShowAnswer } from "../../core/api/changes.js";
import { type ApplyResult, applyChange } from "../../core/changes/apply.js";
import { type ChangeDiff, diffChange, type WordPart } from "../../core/changes/diff.js";
import { openChanges, requireChange } from "../../core/changes/load.js";
import { rejectChange } from "../../core/changes/reject.js";
import {
  type ChangeReport,
  type RecordedBase,
  recordMissingBases,
  reportChanges,
} from "../../core/changes/report.js";
import { type Choice, resolveChangeConflict } from "../../core/changes/resolve.js";
import { revertChange } from "../../core/changes/revert.js";
import { changeRootView, changeViews, viewOfChange } from "../../core/changes/roots.js";
import { newChange } from "../../core/changes/scaffold.js";
import { deliveryLog } from "../../core/scan/deliver.js";
import { securityPolicy } from "../../core/scan/policy.js";
import { deliverChangeAnswer } from "../../core/scan/records.js";
import { type Actor, resolveActor } from "../../workspace/actor.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot, type ProjectRoot } from "../../workspace/root.js";
import { scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS, ACTOR_USAGE } from "../flags.js";
import { finishInterrupted, interruptedLines } from "../interrupted.js";
import { type Io, paint, printJson } from "../output.js";
import type { Subcommand } from "../subcommands.js";
import { padCell, widestOf } from "../table.js";

export const REASONED_FLAGS = {
  ...ACTOR_FLAGS,
  reason: { type: "string", value: "text", help: "why, recorded in the audit log" },
} as const satisfies Flags;

export function openProject(ctx: CommandContext): { project: ProjectRoot; config: KeelConfig } {
  const { global } = ctx;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  return { project, config: loadConfig(project) };
}

/** The project as the change `id` names it: a spec root's change in that root's view (core/changes/roots.ts). */
export async function openChange(
  ctx: CommandContext,
  id: string,
): Promise<{ project: ProjectRoot; config: KeelConfig }> {
  const { project, config } = openProject(ctx);
  return { project: await viewOfChange(project, scopedRoot(project, ctx.global.scope), id), config };
}

/** Where `change list` and `change status` look: the `--root` scope's root, else every root and the top level. */
function listedViews(ctx: CommandContext): { views: ProjectRoot[]; config: KeelConfig } {
  const { project, config } = openProject(ctx);
  return { views: changeViews(project, scopedRoot(project, ctx.global.scope)), config };
}

export function actorOf(
  project: ProjectRoot,
  config: KeelConfig,
  values: { as?: string | undefined; tool?: string | undefined; model?: string | undefined },
): Actor {
  return resolveActor(config, { flag: values.as, tool: values.tool, model: values.model, cwd: project.root });
}

function oneId(positionals: string[], sub: string, usage: string): string {
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) {
    throw usageError(`change ${sub} takes exactly one change ID`, `usage: ${usage}`);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------------------

const NEW_USAGE = `keel change new <name> [--why <text>] [--capability <cap>]... [--modify <REQ-ID>]... [--remove <REQ-ID>]... ${ACTOR_USAGE} [--json]`;

const NEW_FLAGS = {
  ...ACTOR_FLAGS,
  why: { type: "string", value: "text", help: "why the change is needed (the proposal's ## Why)" },
  capability: {
    type: "string",
    multiple: true,
    value: "cap",
    help: "a capability the change adds or touches (repeatable)",
    complete: "capability",
  },
  modify: {
    type: "string",
    multiple: true,
    value: "REQ-ID",
    help: "a requirement the change modifies; its text is copied into the delta (repeatable)",
    complete: "requirement",
  },
  remove: {
    type: "string",
    multiple: true,
    value: "REQ-ID",
    help: "a requirement the change removes (repeatable)",
    complete: "requirement",
  },
} as const satisfies Flags;

const newSub: Subcommand = {
  summary: "scaffold a change: proposal, tasks, change.yaml and delta specs",
  usage: NEW_USAGE,
  flags: NEW_FLAGS,
  run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, NEW_FLAGS, NEW_USAGE);
    if (positionals.length === 0) throw usageError("change new needs a name", `usage: ${NEW_USAGE}`);
    const { project: top, config } = openProject(ctx);
    // `--root payments`: the change is written into that root's changes folder, against its specs.
    const scope = scopedRoot(top, ctx.global.scope);
    const project = scope === null ? top : changeRootView(top, scope);
    const actor = actorOf(project, config, values);
    const r = newChange(project, config, actor, {
      name: positionals.join(" "),
      why: values.why ?? null,
      capabilities: values.capability ?? [],
      modify: values.modify ?? [],
      remove: values.remove ?? [],
    });
    const { io } = ctx;
    if (ctx.global.json) printJson(io, { version: 1, ok: true, ...r });
    else {
      const lines = [`${paint(io, "green", "created")} change ${paint(io, "bold", r.change)} in ${r.dir}/`];
      for (const f of r.files) lines.push(`  ${f}`);
      for (const [cap, ids] of Object.entries(r.base))
        lines.push(`  base recorded: ${cap}: ${ids.join(", ")}`);
      lines.push(`next: write the deltas in ${r.dir}/specs/, then \`keel change diff ${r.change}\``);
      io.out(lines.join("\n"));
    }
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const LIST_USAGE = "keel change list [--all] [--json]";

const LIST_FLAGS = {
  all: { type: "boolean", help: "archived changes too" },
} as const satisfies Flags;

const listSub: Subcommand = {
  summary: "open changes (with --all, archived ones too)",
  usage: LIST_USAGE,
  flags: LIST_FLAGS,
  run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, LIST_FLAGS, LIST_USAGE);
    if (positionals.length > 0) throw usageError("change list takes no arguments", `usage: ${LIST_USAGE}`);
    const rows = listedViews(ctx).views.flatMap((v) => changeListAnswer(v, values.all ?? false).changes);
    const answer = { version: 1 as const, changes: rows };
    const { io } = ctx;
    if (ctx.global.json) printJson(io, answer);
    else if (rows.length === 0) io.out(values.all ? "no changes" : "no open changes");
    else {
      const w = widestOf(rows.map((r) => r.id));
      io.out(
        rows
          .map((r) => {
            const d = r.deltas;
            const counts = `+${d.added} ~${d.modified} -${d.removed} →${d.renamed}`;
            return `${padCell(r.id, w)}  ${r.status.padEnd(8)}  ${counts.padEnd(14)}  ${padCell(r.author ?? "-", 16)}  ${r.capabilities.join(", ")}`;
          })
          .join("\n"),
      );
    }
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const SHOW_USAGE = "keel change show <id> [--json]";

function renderReport(io: Io, r: ChangeReport, conflicts: string[]): string {
  const out = [`${paint(io, "bold", r.id)}  ${r.status}`];
  const field = (k: string, v: string | null) => {
    if (v) out.push(`  ${paint(io, "dim", k.padEnd(10))}  ${v}`);
  };
  field("folder", r.dir);
  field("author", r.author);
  field("created", r.created);
  if (r.why) field("why", r.why.split("\n")[0] ?? "");
  for (const t of r.targets) {
    const name = t.op === "RENAMED" ? `${t.requirement} → ${t.to}` : t.requirement;
    let state = "";
    if (!t.found) state = paint(io, "red", t.op === "ADDED" ? "already exists" : "not in the living spec");
    else if (t.base) {
      const src =
        t.base.source === "recorded"
          ? "base recorded"
          : t.base.source === "git"
            ? `base from git ${t.base.commit?.slice(0, 8)}`
            : "base = living spec now";
      state = `${src} · ${t.moved ? paint(io, "yellow", "living moved since base") : "living unchanged since base"}`;
    }
    out.push(
      `  ${t.op.padEnd(8)}  ${t.capability}: ${name}${state ? `  ${paint(io, "dim", "(")}${state}${paint(io, "dim", ")")}` : ""}`,
    );
  }
  for (const o of r.overlaps) {
    out.push(
      `  ${paint(io, "yellow", "overlap")}   ${o.capability}: ${o.requirement} is also touched by ${o.changes.join(", ")}`,
    );
  }
  for (const p of r.problems)
    out.push(`  ${paint(io, "red", "problem")}   ${p.file}:${p.line}: ${p.message} [${p.rule}]`);
  if (conflicts.length > 0)
    out.push(`  ${paint(io, "red", "conflicts")} ${conflicts.join(", ")} (see \`keel conflicts\`)`);
  return out.join("\n");
}

const showSub: Subcommand = {
  summary: "a change's deltas, bases, drift, overlaps and status",
  usage: SHOW_USAGE,
  flags: {},
  args: ["change"],
  async run(ctx, argv) {
    const { positionals } = parseFlags(argv, {}, SHOW_USAGE);
    const id = oneId(positionals, "show", SHOW_USAGE);
    const { project } = await openChange(ctx, id);
    const lc = requireChange(project, id);
    const { answer, report, conflicts } = changeShowAnswer(project, lc);
    const { io } = ctx;
    if (ctx.global.json) {
      // The JSON is what an agent reads: its prose delivered as REST and MCP deliver it (docs/security.md).
      const log = deliveryLog(securityPolicy(loadConfig(project)));
      const delivered = deliverChangeAnswer(answer, log);
      const sanitized = log.actions();
      printJson(io, sanitized.length > 0 ? { ...delivered, sanitized } : delivered);
    } else io.out(renderReport(io, report, conflicts));
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const DIFF_USAGE = "keel change diff <id> [--json]";

function renderWords(io: Io, parts: WordPart[]): string {
  const text = parts
    .map((p) =>
      p.op === "="
        ? p.text
        : io.color
          ? p.op === "+"
            ? paint(io, "green", p.text)
            : paint(io, "strikethrough", paint(io, "red", p.text))
          : p.op === "+"
            ? `{+${p.text}+}`
            : `[-${p.text}-]`,
    )
    .join("");
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

export function renderDiff(io: Io, d: ChangeDiff): string {
  const out: string[] = [];
  let cap: string | null = null;
  for (const r of d.requirements) {
    if (r.capability !== cap) {
      cap = r.capability;
      out.push(`${out.length > 0 ? "\n" : ""}${paint(io, "bold", cap)}  ${paint(io, "dim", r.file)}`);
    }
    const notes: string[] = [];
    if (r.base) {
      notes.push(
        r.base.source === "recorded"
          ? "against its recorded base"
          : r.base.source === "git"
            ? `against git ${r.base.commit?.slice(0, 8)}`
            : `against the living spec now${r.base.note ? ` (${r.base.note})` : ""}`,
      );
    }
    if (r.moved) notes.push(paint(io, "yellow", "the living requirement moved since; apply will merge"));
    if (r.problem) notes.push(paint(io, "red", r.problem));
    const name = r.op === "RENAMED" ? `${r.requirement} → ${r.to}` : r.requirement;
    const opColour = r.op === "ADDED" ? "green" : r.op === "REMOVED" ? "red" : "cyan";
    out.push(
      `  ${paint(io, opColour, r.op.padEnd(8))}  ${name}${notes.length > 0 ? `  ${paint(io, "dim", `— ${notes.join("; ")}`)}` : ""}`,
    );
    out.push(renderWords(io, r.parts));
  }
  for (const p of d.problems)
    out.push(`${paint(io, "red", "problem")}: ${p.file}:${p.line}: ${p.message} [${p.rule}]`);
  if (d.requirements.length === 0 && d.problems.length === 0) out.push("no delta requirements");
  return out.join("\n");
}

const diffSub: Subcommand = {
  summary: "the change's intent, requirement by requirement, word by word",
  usage: DIFF_USAGE,
  flags: {},
  args: ["change"],
  async run(ctx, argv) {
    const { positionals } = parseFlags(argv, {}, DIFF_USAGE);
    const id = oneId(positionals, "diff", DIFF_USAGE);
    const { project } = await openChange(ctx, id);
    const d = diffChange(project, requireChange(project, id));
    if (ctx.global.json) printJson(ctx.io, { version: 1, ...d });
    else ctx.io.out(renderDiff(ctx.io, d));
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const STATUS_USAGE = `keel change status ${ACTOR_USAGE} [--json]`;

/** One view's open changes reported, the bases they lack recorded first. */
function statusOf(
  project: ProjectRoot,
  actor: () => Actor,
): { reports: ChangeReport[]; recorded: RecordedBase[] } {
  const before = openChanges(project);
  const recorded =
    before.length > 0
      ? recordMissingBases(
          project,
          actor(),
          before.map((c) => c.id),
        )
      : [];
  const changes = recorded.length > 0 ? openChanges(project) : before;
  return { reports: reportChanges(project, changes), recorded };
}

const statusSub: Subcommand = {
  summary: "every open change: base drift and overlaps with other open changes",
  usage: STATUS_USAGE,
  flags: ACTOR_FLAGS,
  async run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, ACTOR_FLAGS, STATUS_USAGE);
    if (positionals.length > 0)
      throw usageError("change status takes no arguments", `usage: ${STATUS_USAGE}`);
    // @req TRU-12
    const interrupted = await finishInterrupted(ctx.io, ctx.global, { quiet: true });
    const { views, config } = listedViews(ctx);
    const each = views.map((project) => statusOf(project, () => actorOf(project, config, values)));
    const reports = each.flatMap((e) => e.reports);
    const recorded = each.flatMap((e) => e.recorded);
    const { io } = ctx;
    if (ctx.global.json) printJson(io, { version: 1, changes: reports, recorded, interrupted });
    else if (reports.length === 0 && interrupted.length === 0) io.out("no open changes");
    else {
      const blocks = reports.map((r) => {
        const head = `${paint(io, "bold", r.id)}  ${r.status}  ${r.targets.length} target(s)`;
        const lines = [head];
        lines.push(
          r.drift.length > 0
            ? `  ${paint(io, "yellow", "drift")}    moved since base: ${r.drift.join(", ")} (apply will merge)`
            : `  ${paint(io, "dim", "drift")}    none`,
        );
        for (const o of r.overlaps) {
          lines.push(
            `  ${paint(io, "yellow", "overlap")}  ${o.capability}: ${o.requirement} with ${o.changes.join(", ")}`,
          );
        }
        for (const p of r.problems)
          lines.push(`  ${paint(io, "red", "problem")}  ${p.file}:${p.line}: ${p.message}`);
        for (const t of r.targets.filter((t) => !t.found)) {
          lines.push(
            `  ${paint(io, "red", "problem")}  ${t.file}:${t.line}: ${t.op} ${t.requirement} ${t.op === "ADDED" ? "already exists" : "is not in the living spec"}`,
          );
        }
        return lines.join("\n");
      });
      blocks.unshift(...interrupted.map((i) => interruptedLines(io, i).join("\n")));
      for (const r of recorded) {
        blocks.push(
          `${paint(io, "dim", "recorded base")} ${r.change}: ${r.capability}/${r.requirement} from ${r.source === "git" ? `git ${r.commit?.slice(0, 8)}` : `the living spec now (${r.note})`}`,
        );
      }
      io.out(blocks.join("\n"));
    }
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const APPLY_USAGE = `keel change apply <id> [--reason <text>] ${ACTOR_USAGE} [--json]`;

function renderApply(io: Io, r: ApplyResult): string {
  if (r.kind === "conflict") {
    const lines = [
      `${paint(io, "red", "conflict")}: apply of ${r.change} refused; nothing was written. ${r.conflicts.length} requirement(s) changed on both sides:`,
    ];
    for (const c of r.conflicts) {
      lines.push(`  ${c.id}  ${c.op} ${c.capability}: ${c.requirement} — ${c.parts.join(", ")}`);
    }
    lines.push(
      `resolve each with \`keel change resolve ${r.change} --requirement <ID> --take ours|theirs\` (or --file merged.md), then apply again`,
    );
    return lines.join("\n");
  }
  const lines = [`${paint(io, "green", "applied")} ${r.change} → archived to ${r.archive}/`];
  for (const q of r.requirements) {
    const name = q.from && q.from !== q.id ? `${q.from} → ${q.id}` : q.id;
    const why =
      q.how === "merged"
        ? "merged with edits made since its base"
        : q.how === "resolved"
          ? `human resolution ${q.resolution}`
          : q.how === "kept"
            ? "kept as it is (resolution)"
            : q.base && !q.base.moved && q.op === "MODIFIED"
              ? "unchanged since base"
              : q.how;
    lines.push(`  ${q.op.padEnd(8)}  ${q.capability}: ${name}  ${paint(io, "dim", why)}`);
  }
  return lines.join("\n");
}

const applySub: Subcommand = {
  summary: "merge a change into the living specs and archive it (exit 4 on a conflict)",
  usage: APPLY_USAGE,
  flags: REASONED_FLAGS,
  args: ["change"],
  async run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, REASONED_FLAGS, APPLY_USAGE);
    const id = oneId(positionals, "apply", APPLY_USAGE);
    const { project, config } = await openChange(ctx, id);
    const r = applyChange(project, config, actorOf(project, config, values), id, {
      reason: values.reason ?? null,
    });
    if (!ctx.global.json)
      for (const i of r.interrupted ?? []) ctx.io.err(`keel: ${interruptedLines(ctx.io, i)[0]}`);
    if (ctx.global.json) printJson(ctx.io, { version: 1, ok: r.kind === "applied", ...r });
    else if (r.kind === "conflict") ctx.io.err(renderApply(ctx.io, r));
    else ctx.io.out(renderApply(ctx.io, r));
    return r.kind === "applied" ? EXIT.ok : EXIT.conflict;
  },
};

// ---------------------------------------------------------------------------------------------------------

const REJECT_USAGE = `keel change reject <id> [--reason <text>] ${ACTOR_USAGE} [--json]`;

const rejectSub: Subcommand = {
  summary: "mark a change rejected (kept in place as a record)",
  usage: REJECT_USAGE,
  flags: REASONED_FLAGS,
  args: ["change"],
  async run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, REASONED_FLAGS, REJECT_USAGE);
    const id = oneId(positionals, "reject", REJECT_USAGE);
    const { project, config } = await openChange(ctx, id);
    const r = rejectChange(project, config, actorOf(project, config, values), id, values.reason ?? null);
    if (ctx.global.json) printJson(ctx.io, { version: 1, ok: true, ...r });
    else
      ctx.io.out(
        `${paint(ctx.io, "yellow", "rejected")} ${r.change} (was ${r.previousStatus}); kept in ${r.dir}/`,
      );
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const REVERT_USAGE = `keel change revert <id> ${ACTOR_USAGE} [--json]`;

const revertSub: Subcommand = {
  summary: "create the inverse of an applied change, as a draft for review",
  usage: REVERT_USAGE,
  flags: ACTOR_FLAGS,
  args: ["change"],
  async run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, ACTOR_FLAGS, REVERT_USAGE);
    const id = oneId(positionals, "revert", REVERT_USAGE);
    const { project, config } = await openChange(ctx, id);
    const r = revertChange(project, config, actorOf(project, config, values), id);
    const { io } = ctx;
    if (ctx.global.json) printJson(io, { version: 1, ok: true, ...r });
    else {
      const lines = [
        `${paint(io, "green", "created")} change ${paint(io, "bold", r.change)} in ${r.dir}/, reverting ${r.reverts}`,
      ];
      for (const o of r.operations) lines.push(`  ${o.op.padEnd(8)}  ${o.capability}: ${o.requirement}`);
      for (const n of r.notes) lines.push(`  ${paint(io, "yellow", "note")}: ${n}`);
      lines.push(`review it, then \`keel change apply ${r.change}\``);
      io.out(lines.join("\n"));
    }
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

const RESOLVE_USAGE = `keel change resolve <id> --requirement <REQ-ID> (--take ours|theirs | --file <merged.md>) [--capability <cap>] ${ACTOR_USAGE} [--json]`;

const RESOLVE_FLAGS = {
  ...ACTOR_FLAGS,
  requirement: {
    type: "string",
    value: "REQ-ID",
    help: "the conflicting requirement to resolve",
    complete: "requirement",
  },
  take: {
    type: "string",
    value: "ours|theirs",
    help: "keep one side as it is",
    complete: ["ours", "theirs"],
  },
  file: {
    type: "string",
    value: "merged.md",
    help: "a file holding the merged requirement",
    complete: "file",
  },
  capability: {
    type: "string",
    value: "cap",
    help: "the capability, where the requirement ID is in more than one",
    complete: "capability",
  },
} as const satisfies Flags;

const resolveSub: Subcommand = {
  summary: "record a human's resolution of a conflict, for the next apply",
  usage: RESOLVE_USAGE,
  flags: RESOLVE_FLAGS,
  args: ["change"],
  async run(ctx, argv) {
    const { values, positionals } = parseFlags(argv, RESOLVE_FLAGS, RESOLVE_USAGE);
    const id = oneId(positionals, "resolve", RESOLVE_USAGE);
    if (!values.requirement)
      throw usageError("change resolve needs --requirement <REQ-ID>", `usage: ${RESOLVE_USAGE}`);
    if ((values.take === undefined) === (values.file === undefined)) {
      throw usageError("give either --take ours|theirs or --file <merged.md>", `usage: ${RESOLVE_USAGE}`);
    }
    let choice: Choice;
    if (values.take !== undefined) {
      if (values.take !== "ours" && values.take !== "theirs") {
        throw usageError(
          `--take must be ours or theirs, not "${values.take}"`,
          "ours = the living requirement, theirs = the change's",
        );
      }
      choice = { take: values.take };
    } else {
      const path = resolve(ctx.global.cwd, values.file as string);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        throw usageError(
          `cannot read ${values.file} (${(e as NodeJS.ErrnoException).code})`,
          "give a readable file",
        );
      }
      choice = { file: values.file as string, text };
    }
    const { project, config } = await openChange(ctx, id);
    const r = resolveChangeConflict(
      project,
      config,
      actorOf(project, config, values),
      id,
      values.requirement,
      choice,
      values.capability ?? null,
    );
    if (ctx.global.json) printJson(ctx.io, { version: 1, ok: true, ...r });
    else {
      ctx.io.out(
        `${paint(ctx.io, "green", "resolved")} ${r.conflict}: ${r.capability}: ${r.requirement} takes ${r.resolution}${r.removes ? " (the requirement is removed)" : ""}; run \`keel change apply ${r.change}\``,
      );
    }
    return EXIT.ok;
  },
};

// ---------------------------------------------------------------------------------------------------------

export const APPROVE_USAGE = `keel change approve <id> ${ACTOR_USAGE} [--reason <text>] [--json]`;

/** The subcommands of `keel change`, in help order. */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  new: newSub,
  list: listSub,
  show: showSub,
  diff: diffSub,
  status: statusSub,
  apply: applySub,
  reject: rejectSub,
  revert: revertSub,
  resolve: resolveSub,
  approve: {
    summary: "approve a change: a human act unless policy grants autonomy",
    usage: APPROVE_USAGE,
    flags: REASONED_FLAGS,
    args: ["change"],
    run: async (ctx, argv) => (await import("./change-approve.js")).approve(ctx, argv),
  },
};

function usage(): string {
  const w = Math.max(...Object.keys(SUBCOMMANDS).map((k) => k.length));
  return `keel change <subcommand> [options]\n\nsubcommands:\n${Object.entries(SUBCOMMANDS)
    .map(([name, s]) => `  ${name.padEnd(w)}  ${s.summary}`)
    .join("\n")}`;
}

const command: Command = {
  name: "change",
  summary: "change proposals: new, list, show, diff, status, approve, apply, reject, revert, resolve",
  usage: "keel change <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  async run(ctx) {
    const [name, ...rest] = ctx.argv;
    if (name === undefined) throw usageError("change needs a subcommand", usage());
    const sub = SUBCOMMANDS[name];
    if (!sub) throw usageError(`unknown subcommand "change ${name}"`, usage());
    // An apply a crash interrupted is settled first (cli/interrupted.ts); `status` shows what it settled, and
    // `apply` settles it in the core, so that its answer can say so.
    if (name !== "status" && name !== "apply") await finishInterrupted(ctx.io, ctx.global);
    return sub.run(ctx, rest);
  },
};

export default command;
