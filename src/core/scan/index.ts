// The untrusted-text scanner: one entry point used by validate and by every surface that hands spec text to an
// agent. `scanText` runs the four rules, each behind a cheap test of whether it could match at all.
// @req TRU-1, TRU-3, TRU-14
import { scanExternalUrls } from "./external-url.js";
import { hasMarkup } from "./hidden-markdown.js";
import { HIDDEN_CHARACTER, scanHiddenUnicode } from "./hidden-unicode.js";
import { scanInstructions } from "./instruction-like.js";
import type { SecurityPolicy } from "./policy.js";
import { scanSecrets } from "./secret.js";
import type { ScanHit, ScanRule, Trust } from "./types.js";

export {
  DEFAULT_ALLOWED_HOSTS,
  DEFAULT_INSTRUCTION_PATTERNS,
  DEFAULT_SECURITY_POLICY,
  policyOfSection,
  type SecurityPolicy,
  securityPolicy,
  trustOf,
  untrustedBecause,
} from "./policy.js";
export * from "./types.js";

export interface ScanOptions {
  trust: Trust;
  policy: SecurityPolicy;
  /** Rules to run; all of them when absent (validate passes those not turned off). */
  rules?: ReadonlySet<ScanRule>;
}

/**
 * What the secret rules need before they can match: a long token of the alphabet keys are written in, a URL
 * (`://`, which also carries the credentials of a connection string) or a PEM header. No `_` or `-` in the
 * token: constant names (`MESSAGE_THREAD_INVALID`) and slugs are everywhere in specs, and every key format
 * secretlint knows has a long run of letters and digits after its prefix.
 */
function secretShaped(text: string): boolean {
  return text.includes("://") || text.includes("-----BEGIN") || hasLongToken(text, 16);
}
const URL_SHAPED = /:\/\/|www\./i;

/**
 * Whether a run of `length` letters, digits, `+`, `/` or `=` occurs. `/[…]{16}/` restarts at every position of
 * every word (16 steps per character); this looks at the last character of each window and, from a character
 * outside the alphabet, jumps a whole window ahead, so that prose costs well under one step per character.
 */
function hasLongToken(text: string, length: number): boolean {
  let end = length - 1;
  while (end < text.length) {
    let i = end;
    while (i > end - length && isTokenChar(text.charCodeAt(i))) i--;
    if (i === end - length) return true;
    end = i + length;
  }
  return false;
}

function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHAR[c] === 1;
}

const TOKEN_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
  TOKEN_CHAR[c.charCodeAt(0)] = 1;

/**
 * Whether `text` may hold a finding at all; false means `scanText` would return nothing. One fast test per
 * rule (a character class or literals, no case folding), so that ordinary spec text costs almost nothing.
 */
export function mayHoldFindings(text: string, trust: Trust): boolean {
  // Untrusted visible text can hold an instruction-like phrase without any markup.
  return trust === "untrusted" || HIDDEN_CHARACTER.test(text) || hasMarkup(text) || secretShaped(text);
}

/** Every finding in `text`, sorted by start offset (then by rule). Never throws on any string. */
export function scanText(text: string, options: ScanOptions): ScanHit[] {
  const on = (rule: ScanRule) => options.rules === undefined || options.rules.has(rule);
  const untrusted = options.trust === "untrusted";
  const hits: ScanHit[] = [];
  if (on("security/hidden-unicode") && HIDDEN_CHARACTER.test(text)) hits.push(...scanHiddenUnicode(text));
  if (on("security/instruction-like") && (untrusted || hasMarkup(text)))
    hits.push(...scanInstructions(text, options.policy, options.trust));
  if (on("security/secret") && secretShaped(text)) hits.push(...scanSecrets(text));
  if (on("security/external-url") && untrusted && URL_SHAPED.test(text))
    hits.push(...scanExternalUrls(text, options.policy.allowedHosts));
  return hits.sort((a, b) => a.start - b.start || a.end - b.end || a.rule.localeCompare(b.rule));
}
