// Content fingerprints. A requirement's fingerprint changes when its meaning-bearing content changes and
// stays put under reformatting, so that links made against it become suspect only for real edits.
// The normalisation is documented in docs/format.md ("Fingerprint"); keep the two in step.

import { createHash } from "node:crypto";

const HTML_COMMENT = /<!--[\s\S]*?-->/g;
const LIST_MARKER = /^\s*(?:[-*+]|\d+[.)])\s+/;
const EMPHASIS = /(\*\*|__)(?=\S)([\s\S]*?\S)\1|(^|[^\w*])[*_](?=\S)([^*_\n]*?\S)[*_](?=[^\w*]|$)/g;
const STEP_KEYWORD = /^(given|when|then|and|but)\b:?/i;

/** Normalises a block of Markdown prose for fingerprinting: one logical line per non-blank source line. */
export function normaliseProse(text: string): string {
  const out: string[] = [];
  const cleaned = text.normalize("NFC").replace(/\r\n?/g, "\n").replace(HTML_COMMENT, "");
  for (const rawLine of cleaned.split("\n")) {
    let line = rawLine.trim();
    if (line === "") continue;
    const isItem = LIST_MARKER.test(line);
    if (isItem) line = line.replace(LIST_MARKER, "");
    line = stripEmphasis(line).replace(/`/g, "").replace(/\s+/g, " ").trim();
    if (line === "") continue;
    if (isItem) line = `- ${line.replace(STEP_KEYWORD, (k) => k.replace(":", "").toUpperCase())}`;
    out.push(line);
  }
  return out.join("\n");
}

function stripEmphasis(line: string): string {
  let prev = "";
  let cur = line;
  // Nested emphasis (`***x***`) needs more than one pass; two suffice for anything people write.
  for (let pass = 0; pass < 3 && prev !== cur; pass++) {
    prev = cur;
    cur = cur.replace(EMPHASIS, (_m, d: string | undefined, inner: string | undefined, lead: string, inner2: string) =>
      d ? (inner as string) : `${lead}${inner2}`,
    );
  }
  return cur;
}

export interface FingerprintInput {
  text: string;
  scenarios: ReadonlyArray<{ name: string; body: string }>;
}

export function requirementFingerprint(input: FingerprintInput): string {
  const h = createHash("sha256");
  h.update("T\n");
  h.update(normaliseProse(input.text));
  for (const s of input.scenarios) {
    h.update("\nS ");
    h.update(normaliseProse(s.name));
    h.update("\n");
    h.update(normaliseProse(s.body));
  }
  return h.digest("hex").slice(0, 16);
}

export function contentHash(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
