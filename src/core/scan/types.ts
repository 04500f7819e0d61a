// The untrusted-text scanner's vocabulary, shared by the rules (what is flagged) and the delivery side
// (what an agent is given instead). Offsets are 0-based UTF-16 indexes into the scanned text, as in Span.
// @req TRU-1, TRU-2, TRU-3
import type { Provenance } from "../../model/types.js";

export const SCAN_RULES = [
  "security/hidden-unicode",
  "security/instruction-like",
  "security/secret",
  "security/external-url",
] as const;
export type ScanRule = (typeof SCAN_RULES)[number];

/** One flagged stretch of text. */
export interface ScanHit {
  rule: ScanRule;
  /** First flagged UTF-16 index (inclusive) and the index after the last (exclusive). */
  start: number;
  end: number;
  /** What was found, for a person: "right-to-left override U+202E", "AWS access key ID", … */
  message: string;
  hint: string;
}

/** How much a piece of text is trusted, decided from its provenance and the project's policy. */
export type Trust = "trusted" | "untrusted";

/** What the delivery side did to a piece of text before handing it to an agent. */
export interface SanitizeAction {
  rule: ScanRule;
  /** escaped (hidden characters) | fenced (instruction-like text) | redacted (secrets) | annotated (links) */
  action: "escaped" | "fenced" | "redacted" | "annotated";
  /** Where it happened: a requirement ID, a file path, … */
  target: string;
  count: number;
}

/** Text about to be delivered, with what is known of who wrote it. */
export interface UntrustedSource {
  text: string;
  target: string;
  provenance?: Provenance;
}
