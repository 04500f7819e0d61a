// Cross-file rules OpenSpec lacks: duplicate IDs, unknown references, delta targets that do not exist (or, for
// ADDED, already exist), and open changes that touch the same requirement.
// @req VAL-5, VAL-6, VAL-7, VAL-8
import type { DeltaOp, Finding, Span } from "../../model/types.js";

export interface RequirementSummary {
  id: string;
  title: string;
  explicit: boolean;
  line: number;
  col: number;
  /** Effective status: the marker line's, else the spec's front matter's; null when neither says. */
  status: string | null;
}

export interface ChangeTouch {
  change: string;
  capability: string;
  op: DeltaOp;
  title: string;
  id: string | null;
  span: Span;
}

export interface CrossFileInput {
  living: Map<string, RequirementSummary[]>;
  specFiles: Map<string, string>;
  references: Array<{ id: string; file: string; line: number; col: number }>;
  touches: ChangeTouch[];
}

export function crossFileRules(input: CrossFileInput): Finding[] {
  const out: Finding[] = [];
  const byId = new Map<string, Array<{ capability: string; r: RequirementSummary }>>();
  for (const [capability, reqs] of input.living) {
    for (const r of reqs) {
      const list = byId.get(r.id) ?? [];
      list.push({ capability, r });
      byId.set(r.id, list);
    }
  }

  for (const [id, defs] of byId) {
    if (defs.length < 2) continue;
    const first = defs[0] as { capability: string; r: RequirementSummary };
    const firstFile = input.specFiles.get(first.capability) ?? first.capability;
    for (const dup of defs.slice(1)) {
      out.push({
        rule: "xref/duplicate-id",
        severity: "error",
        file: input.specFiles.get(dup.capability) ?? dup.capability,
        line: dup.r.line,
        col: dup.r.col,
        message: `requirement ID ${id} is already defined at ${firstFile}:${first.r.line}`,
        hint: dup.r.explicit
          ? "give one of them a new ID (IDs must be unique across the project)"
          : "two requirements share a title and so a derived ID: rename one or add an explicit {#ID}",
        target: id,
      });
    }
  }

  for (const ref of input.references) {
    if (byId.has(ref.id)) continue;
    out.push({
      rule: "xref/unknown-reference",
      severity: "error",
      file: ref.file,
      line: ref.line,
      col: ref.col,
      message: `reference [[${ref.id}]] names no requirement`,
      hint: "fix the ID, or remove the reference (`keel list requirements` lists every ID)",
      target: ref.id,
    });
  }

  const seen = new Map<string, ChangeTouch[]>();
  /** ADDED requirements that clash with a living one, and the living requirements each change renames or removes. */
  const added: Array<{ t: ChangeTouch; clash: RequirementSummary }> = [];
  const vacated = new Set<string>();
  for (const t of input.touches) {
    const reqs = input.living.get(t.capability) ?? [];
    if (t.op === "ADDED") {
      const clash = reqs.find((r) => (t.id !== null && r.id === t.id) || r.title.trim() === t.title.trim());
      if (clash) added.push({ t, clash });
      continue;
    }
    const target = t.id
      ? reqs.find((r) => r.id === t.id)
      : reqs.find((r) => r.title.trim() === t.title.trim());
    if (!target) {
      out.push({
        rule: "xref/delta-target-missing",
        severity: "error",
        file: t.span.file,
        line: t.span.start.line,
        col: t.span.start.col,
        message: `${t.op} requirement "${t.id ?? t.title}" does not exist in the living spec "${t.capability}"`,
        hint: input.living.has(t.capability)
          ? `use the exact title (or ID) of a requirement in ${input.specFiles.get(t.capability)}; or use ADDED for a new one`
          : `there is no living spec "${t.capability}": use ADDED to create it, or fix the capability folder name`,
        target: t.change,
      });
      continue;
    }
    if (t.op !== "MODIFIED") vacated.add(`${t.change}\u0000${t.capability}\u0000${target.id}`);
    const key = `${t.capability}\u0000${target.id}`;
    const list = seen.get(key) ?? [];
    list.push(t);
    seen.set(key, list);
  }
  for (const { t, clash } of added) {
    // A change may add a title that it renames or removes away from the living spec.
    if (vacated.has(`${t.change}\u0000${t.capability}\u0000${clash.id}`)) continue;
    out.push({
      rule: "xref/delta-target-exists",
      severity: "error",
      file: t.span.file,
      line: t.span.start.line,
      col: t.span.start.col,
      message: `ADDED requirement "${t.id ?? t.title}" already exists in the living spec "${t.capability}" (${clash.id}, ${input.specFiles.get(t.capability) ?? t.capability}:${clash.line})`,
      hint: "use MODIFIED to change the existing requirement, or give the new one another title and ID",
      target: t.change,
    });
  }
  for (const [key, list] of seen) {
    const changes = [...new Set(list.map((t) => t.change))];
    if (changes.length < 2) continue;
    const reqId = key.split("\u0000")[1];
    for (const t of list) {
      const others = changes.filter((c) => c !== t.change);
      if (others.length === 0) continue;
      out.push({
        rule: "xref/change-overlap",
        severity: "warning",
        file: t.span.file,
        line: t.span.start.line,
        col: t.span.start.col,
        message: `change "${t.change}" ${t.op.toLowerCase()} requirement ${reqId}, which open change(s) ${others.map((c) => `"${c}"`).join(", ")} also touch`,
        hint: "coordinate the changes: apply one first and rebase the other, or merge them into one change",
        target: t.change,
      });
    }
  }
  return out;
}
