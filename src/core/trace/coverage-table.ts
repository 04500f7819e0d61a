// Coverage as a Markdown table for a pull-request comment: per capability, the share of approved requirements
// that are implemented, tested and verified with fresh evidence.
import type { CapabilityCoverage } from "./report.js";

function share(n: number, of: number): string {
  return of === 0 ? "–" : `${n}/${of} (${Math.round((100 * n) / of)}%)`;
}

export function coverageMarkdown(rows: readonly CapabilityCoverage[]): string {
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
  return [
    "| capability | approved | implemented | tested | verified |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => line(`\`${r.capability}\``, r)),
    line("**total**", total),
  ].join("\n");
}
