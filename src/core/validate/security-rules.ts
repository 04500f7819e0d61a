// The untrusted-text rules in validate: the scanner (core/scan) over every file whose text reaches agents
// (specs, delta specs, proposals, task files), with each hit turned into a finding at its line and column.
// A file is scanned once at its own trust; the parts written by an agent or inferred are scanned again as
// untrusted for the two rules that depend on trust (external URLs, visible instruction-like text).
// @req TRU-1, TRU-3
import { positionAt } from "../../format/layouts/positions.js";
import { type Scan, scan } from "../../format/scan.js";
import type { Finding, Requirement, RequirementStatus, Severity } from "../../model/types.js";
import type { KeelConfig, SecurityConfig } from "../../workspace/config.js";
import {
  policyOfSection,
  SCAN_RULES,
  type ScanHit,
  type ScanRule,
  type SecurityPolicy,
  scanText,
  untrustedBecause,
} from "../scan/index.js";

/** A secret in a spec is a leak already: an error. The others ask for a look, and are warnings. */
export const SECURITY_SEVERITY: Readonly<Record<ScanRule, Severity>> = {
  "security/secret": "error",
  "security/hidden-unicode": "warning",
  "security/instruction-like": "warning",
  "security/external-url": "warning",
};

/** Only these rules give a different answer for untrusted text. */
const TRUST_DEPENDENT: ReadonlySet<ScanRule> = new Set([
  "security/external-url",
  "security/instruction-like",
]);

/** What the validate rules need of the configuration; plain data, so that it crosses to the worker thread. */
export interface SecuritySettings {
  security: SecurityConfig;
  /** Rules not turned off in `validate.rules` (an off rule is not run at all). */
  rules: ScanRule[];
}

export function securitySettings(config: KeelConfig): SecuritySettings {
  return {
    security: config.security,
    rules: SCAN_RULES.filter((r) => config.validate.rules[r] !== "off"),
  };
}

export interface SecurityScanner {
  policy: SecurityPolicy;
  rules: ReadonlySet<ScanRule>;
  untrustedRules: ReadonlySet<ScanRule>;
}

export function securityScanner(settings: SecuritySettings): SecurityScanner {
  const rules = new Set(settings.rules);
  return {
    policy: policyOfSection(settings.security),
    rules,
    untrustedRules: new Set(settings.rules.filter((r) => TRUST_DEPENDENT.has(r))),
  };
}

/** A stretch of a file (offsets into its text) with who wrote it, and what a finding in it is about. */
export interface TextPart {
  start: number;
  end: number;
  target: string;
  /** Why this part is untrusted, or null when it is trusted. */
  untrusted: string | null;
}

export interface ScannedFile {
  text: string;
  file: string;
  /** Why the whole file is untrusted (an agent's change), or null. */
  untrusted: string | null;
  /** The finding's target outside any part: the capability or the change. */
  target: string;
  parts: TextPart[];
  /** The file's line scan, when the parser already made one. */
  lines?: Scan;
}

export function scanFileFindings(f: ScannedFile, scanner: SecurityScanner): Finding[] {
  if (scanner.rules.size === 0) return [];
  const hits: Array<{ hit: ScanHit; because: string | null }> = scanText(f.text, {
    trust: f.untrusted === null ? "trusted" : "untrusted",
    policy: scanner.policy,
    rules: scanner.rules,
  }).map((hit) => ({ hit, because: f.untrusted }));
  if (f.untrusted === null && scanner.untrustedRules.size > 0) {
    const seen = new Set(hits.map(({ hit }) => `${hit.rule}:${hit.start}:${hit.end}`));
    for (const part of f.parts) {
      if (part.untrusted === null) continue;
      const more = scanText(f.text.slice(part.start, part.end), {
        trust: "untrusted",
        policy: scanner.policy,
        rules: scanner.untrustedRules,
      });
      for (const h of more) {
        const hit = { ...h, start: h.start + part.start, end: h.end + part.start };
        const key = `${hit.rule}:${hit.start}:${hit.end}`;
        if (!seen.has(key)) hits.push({ hit, because: part.untrusted });
        seen.add(key);
      }
    }
  }
  if (hits.length === 0) return [];
  const lines = f.lines ?? scan(f.text, f.file);
  return hits.map(({ hit, because }) => {
    const at = positionAt(lines, hit.start);
    const trustNote = because !== null && TRUST_DEPENDENT.has(hit.rule) ? ` (untrusted: ${because})` : "";
    return {
      rule: hit.rule,
      severity: SECURITY_SEVERITY[hit.rule],
      file: f.file,
      line: at.line,
      col: at.col,
      message: `${hit.message}${trustNote}`,
      hint: hit.hint,
      target: partAt(f.parts, hit.start)?.target ?? f.target,
    };
  });
}

function partAt(parts: readonly TextPart[], offset: number): TextPart | undefined {
  return parts.find((p) => p.start <= offset && offset < p.end);
}

/** Each requirement of a spec or delta as a part, with its own provenance deciding its trust. */
export function requirementParts(
  requirements: readonly Requirement[],
  policy: SecurityPolicy,
  statusOf: (r: Requirement) => RequirementStatus | null = (r) => r.markers?.status ?? null,
): TextPart[] {
  return requirements.map((r) => ({
    start: r.span.start.offset,
    end: r.span.end.offset,
    target: r.id,
    untrusted: untrustedBecause({ provenance: r.markers?.provenance, status: statusOf(r) }, policy),
  }));
}
