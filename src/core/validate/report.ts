// Turns a full analysis into the report a user asked for: profile, strictness, target, per-rule overrides.
// @req VAL-15
import type { Finding } from "../../model/types.js";
import type { RuleSetting } from "../../workspace/config.js";
import type { FullResult, ItemVerdict } from "./engine.js";

export const PROFILES = ["keel", "openspec", "speckit", "kiro"] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * The rule families each toolkit profile reports (the `keel` profile reports every rule): OpenSpec's own checks;
 * for Spec Kit and Kiro, which have no validator of their own, their structural rules (docs/layouts.md), the
 * task graph's, duplicate IDs and the clarity lint.
 */
const PROFILE_FAMILIES: Readonly<Record<Exclude<Profile, "keel">, readonly string[]>> = {
  openspec: ["openspec/", "format/", "input/"],
  speckit: ["speckit/", "tasks/", "xref/duplicate-id", "clarity/", "format/", "input/"],
  kiro: ["kiro/", "tasks/", "xref/duplicate-id", "clarity/", "format/", "input/"],
};

export interface ReportOptions {
  strict: boolean;
  profile: Profile;
  rules: Record<string, RuleSetting>;
  /** Keep only items and findings this predicate accepts (a path or an ID given on the command line). */
  select?: (item: ItemVerdict | null, finding: Finding | null) => boolean;
}

export interface ReportItem {
  id: string;
  type: "spec" | "change";
  file: string;
  valid: boolean;
  requirements: number;
  errors: number;
  warnings: number;
  info: number;
}

export interface ValidationReport {
  version: 1;
  ok: boolean;
  strict: boolean;
  profile: Profile;
  summary: {
    errors: number;
    warnings: number;
    info: number;
    specs: number;
    changes: number;
    requirements: number;
  };
  items: ReportItem[];
  findings: Finding[];
}

// @req VAL-17
export function buildReport(result: FullResult, options: ReportOptions): ValidationReport {
  const keep = (f: Finding): Finding | null => {
    const families = options.profile === "keel" ? null : PROFILE_FAMILIES[options.profile];
    if (families && !families.some((p) => f.rule.startsWith(p))) return null;
    const setting = options.rules[f.rule];
    if (setting === "off") return null;
    return setting ? { ...f, severity: setting } : f;
  };
  const items: ReportItem[] = [];
  const findings: Finding[] = [];
  for (const item of result.items) {
    if (options.select && !options.select(item, null)) continue;
    const kept = item.findings.map(keep).filter((f): f is Finding => f !== null);
    const errors = kept.filter((f) => f.severity === "error").length;
    const warnings = kept.filter((f) => f.severity === "warning").length;
    items.push({
      id: item.id,
      type: item.type,
      file: item.file,
      valid: errors === 0 && (!options.strict || warnings === 0),
      requirements: item.requirements,
      errors,
      warnings,
      info: kept.length - errors - warnings,
    });
    findings.push(...kept);
  }
  for (const f of result.projectFindings) {
    const k = keep(f);
    if (k && (!options.select || options.select(null, k))) findings.push(k);
  }
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  return {
    version: 1,
    ok: errors === 0 && (!options.strict || warnings === 0),
    strict: options.strict,
    profile: options.profile,
    summary: {
      errors,
      warnings,
      info: findings.length - errors - warnings,
      specs: items.filter((i) => i.type === "spec").length,
      changes: items.filter((i) => i.type === "change").length,
      requirements: options.select
        ? items.reduce((n, i) => n + (i.type === "spec" ? i.requirements : 0), 0)
        : result.requirements,
    },
    items,
    findings,
  };
}
