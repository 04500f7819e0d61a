// Coverage as a Markdown table for a pull-request comment: one row per capability, the share of its approved
// requirements that are implemented, tested and verified with fresh evidence, and a total.
import type { CapabilityCoverage } from "./report.js";

function share(n: number, of: number): string {
  return of === 0 ? "–" : `${n}/${of} (${Math.round((100 * n) / of)}%)`;
}

/**
 * @param requirements every requirement and the approved ones: when some are not approved, a line under the
 *   table says how many the rows count, so rows of zeros on a project that approves few read for what they are
 */
export function coverageMarkdown(
  rows: readonly CapabilityCoverage[],
  requirements: { total: number; approved: number },
): string {
  const total = rows.reduce(
    (t, r) => ({
      approved: t.approved + r.approved,
      implemented: t.implemented + r.implemented,
      tested: t.tested + r.tested,
      verified: t.verified + r.verified,
    }),
    { approved: 0, implemented: 0, tested: 0, verified: 0 },
  );
  const line = (name: string, r: Omit<CapabilityCoverage, "capability">) =>
    `| ${name} | ${r.approved} | ${share(r.implemented, r.approved)} | ${share(r.tested, r.approved)} | ${share(r.verified, r.approved)} |`;
  const out = [
    "| capability | approved | implemented | tested | verified |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => line(`\`${r.capability}\``, r)),
    line("**total**", total),
  ];
  if (requirements.approved < requirements.total)
    out.push(
      "",
      `Counted over approved requirements: ${requirements.approved} of ${requirements.total} requirement${requirements.total === 1 ? " is" : "s are"} approved.`,
    );
  return out.join("\n");
}
