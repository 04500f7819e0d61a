// A toolkit's constitution (Spec Kit's) written in Keel's format: each principle as `### Principle: <title>
// {#<id>}` under `## Principles`, the ID as the toolkit's reader gives it (`principle/III`), and every section
// that is not a principle copied as written.
// @req LAY-12
import { parseConstitution } from "../../format/constitution.js";
import { scan } from "../../format/scan.js";
import type { Constitution, Principle } from "../../model/types.js";
import { projectError } from "../../workspace/errors.js";
import { lf, preambleText, sectionsOf } from "./text.js";

/** The Keel text of `constitution`, read from `text` (its source). */
export function keelConstitutionText(constitution: Constitution, text: string): string {
  const s = scan(text, constitution.file);
  const h1 = s.headings.find((h) => h.level === 1);
  const parts = [`# ${h1 ? h1.text : "Constitution"}`];
  const intro = preambleText(s);
  if (intro !== "") parts.push(intro);
  parts.push("## Principles", ...constitution.principles.map(principleBlock));
  const starts = constitution.principles.map((p) => p.span.start.offset);
  for (const sec of sectionsOf(s, starts)) if (!sec.holds) parts.push(sec.text);
  const out = `${parts.join("\n\n")}\n`;
  expectSamePrinciples(constitution, out);
  return out;
}

/** The ID is always written, a derived one too, so that a later change of the title does not move it. */
function principleBlock(p: Principle): string {
  const gate = p.gate === null ? [] : [`Gate: \`${p.gate}\``];
  return [`### Principle: ${p.title} {#${p.id}}`, ...(p.text === "" ? [] : [lf(p.text)]), ...gate].join(
    "\n\n",
  );
}

/** The Keel text reads back as the same principles: IDs, titles and gates, in order. */
function expectSamePrinciples(source: Constitution, text: string): void {
  const now = parseConstitution(text, source.file).constitution.principles;
  const same =
    now.length === source.principles.length &&
    now.every((p, k) => {
      const was = source.principles[k] as Principle;
      return p.id === was.id && p.title === was.title && p.gate === was.gate;
    });
  if (!same) {
    throw projectError(
      `the Keel version of ${source.file} would not read back with the same principles; nothing was written`,
      "check the principle headings of the source (a title ending in {#…}, a Gate: line in the text)",
      { file: source.file, line: 1, col: 1 },
    );
  }
}
