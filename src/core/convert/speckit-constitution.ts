// Keel's constitution written as Spec Kit's: principles numbered `### I. Title` under `## Core Principles`, a
// gate kept as a `Gate:` line of the principle's text (Spec Kit has no gates; Keel reads the line back as one),
// and every other section copied as written.
// @req LAY-12
import { parseSpeckitConstitution } from "../../format/layouts/speckit.js";
import { scan } from "../../format/scan.js";
import type { Constitution, Principle } from "../../model/types.js";
import { projectError } from "../../workspace/errors.js";
import type { ConversionLoss } from "./plan.js";
import { lf, preambleText, sectionsOf } from "./text.js";

const NUMERAL_ID = /^principle\/([IVXLCDM]+)$/;

export function speckitConstitutionText(
  constitution: Constitution,
  text: string,
): { text: string; losses: ConversionLoss[] } {
  const losses: ConversionLoss[] = [];
  const s = scan(text, constitution.file);
  const h1 = s.headings.find((h) => h.level === 1);
  const numerals = numberPrinciples(constitution.principles, (m) =>
    losses.push({ file: constitution.file, message: m }),
  );
  const parts = [`# ${h1 ? h1.text : "Constitution"}`];
  const intro = preambleText(s);
  if (intro !== "") parts.push(intro);
  parts.push("## Core Principles");
  constitution.principles.forEach((p, k) => {
    const gate = p.gate === null ? [] : [`Gate: \`${p.gate}\``];
    parts.push(
      [`### ${numerals[k]}. ${p.title}`, ...(p.text === "" ? [] : [lf(p.text)]), ...gate].join("\n\n"),
    );
  });
  const starts = constitution.principles.map((p) => p.span.start.offset);
  for (const sec of sectionsOf(s, starts)) if (!sec.holds) parts.push(sec.text);
  const out = `${parts.join("\n\n")}\n`;
  const back = parseSpeckitConstitution(out, constitution.file).constitution.principles;
  if (
    back.length !== constitution.principles.length ||
    back.some((p, k) => p.title !== constitution.principles[k]?.title)
  ) {
    throw projectError(
      `${constitution.file} would not read back from Spec Kit's format with the same principles; nothing was written`,
      "check the principle titles (a title that starts with a numeral and a full stop), then export again",
      { file: constitution.file, line: 1, col: 1 },
    );
  }
  return { text: out, losses };
}

/**
 * Spec Kit's principle IDs are their numerals. A principle imported from Spec Kit (`principle/III`) keeps its
 * numeral; any other gets the next unused one, and the change of ID is said.
 */
function numberPrinciples(principles: Principle[], lose: (m: string) => void): string[] {
  const taken = new Set(principles.map((p) => NUMERAL_ID.exec(p.id)?.[1]).filter((n): n is string => !!n));
  let next = 1;
  return principles.map((p) => {
    const own = NUMERAL_ID.exec(p.id)?.[1];
    if (own) return own;
    while (taken.has(roman(next))) next++;
    const numeral = roman(next++);
    lose(`principle ${p.id} is written as ${numeral}: Spec Kit names principles by numeral`);
    return numeral;
  });
}

function roman(n: number): string {
  const table: Array<[number, string]> = [
    [1000, "M"],
    [900, "CM"],
    [500, "D"],
    [400, "CD"],
    [100, "C"],
    [90, "XC"],
    [50, "L"],
    [40, "XL"],
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let out = "";
  let rest = n;
  for (const [value, numeral] of table) {
    while (rest >= value) {
      out += numeral;
      rest -= value;
    }
  }
  return out;
}
