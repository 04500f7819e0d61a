// How much spec text is trusted, and the project's scanning policy (keel.yaml `security:`), with its defaults.
// @req TRU-3
import type { Provenance, RequirementStatus } from "../../model/types.js";
import { INSTRUCTION_PATTERN_FLAGS, type KeelConfig, type SecurityConfig } from "../../workspace/config.js";
import type { Trust } from "./types.js";

export interface SecurityPolicy {
  /**
   * Hosts a URL in untrusted text may point to without a finding. An entry matches the host itself and every
   * subdomain (`acme.com` allows `docs.acme.com`); an entry starting with `.` names a top-level suffix only.
   */
  allowedHosts: readonly string[];
  /** Instruction-like phrases (compiled with the `gi` flags), looked for in hidden text and in untrusted text. */
  instructionPatterns: readonly RegExp[];
  /**
   * All of them as one alternation, tested before any is run (one pass instead of one per pattern); null when
   * they cannot be combined (a back-reference or a repeated group name in a project's pattern).
   */
  instructionPrecheck?: RegExp | null;
  /** Whether an approved, human-written requirement is trusted (keel.yaml `security.trust_human_approved`). */
  trustHumanApproved: boolean;
}

/**
 * Names reserved for documentation and testing by RFC 2606 and RFC 6761: they can never lead to a stranger's
 * server, so a link to them is not a finding. The loopback addresses are the same case for a local server.
 */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = [
  "example.com",
  "example.net",
  "example.org",
  ".example",
  ".test",
  ".invalid",
  "localhost",
  ".localhost",
  "127.0.0.1",
  "[::1]",
];

/**
 * Phrases aimed at an AI reader rather than a human one: the shapes of indirect prompt injection seen in the wild
 * (OWASP LLM01). Each is narrow enough that a spec's ordinary imperative sentences ("the service SHALL ignore
 * duplicate events") do not match. Spaces stand for any run of whitespace.
 */
export const DEFAULT_INSTRUCTION_PATTERNS: readonly string[] = [
  // "ignore all previous instructions", "disregard the above rules", "forget your prior guidelines"
  String.raw`\b(?:ignore|disregard|forget|override)\b(?:\s+\w+){0,3}?\s+(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those)\s+(?:\w+\s+)?(?:instructions?|prompts?|rules|directions|guidelines|guidance|context)\b`,
  // role hijacking
  String.raw`\byou\s+are\s+now\b`,
  String.raw`\bfrom\s+now\s+on,?\s+you\b`,
  String.raw`\b(?:new|updated|real|actual)\s+instructions?\s*:`,
  String.raw`\b(?:system|developer)\s+(?:prompt|message)\b`,
  String.raw`\b(?:note|message|instructions?|attention)\s+(?:to|for)\s+(?:the\s+|any\s+)?(?:ai|assistant|agent|llm|language\s+model|model|claude|chatgpt|gpt|copilot|gemini|cursor)\b`,
  String.raw`<\|?(?:im_start|im_end|system|endoftext)\|?>|\[\/?INST\]`,
  String.raw`\bjailbr(?:eak|oken)\b`,
  // running a downloaded script: curl … | sh
  String.raw`\b(?:curl|wget|iwr|invoke-webrequest)\b[^\n|]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b`,
  // exfiltration: sending what is secret somewhere (a webhook spec's "send events to https://…" is not)
  String.raw`\bexfiltrat\w*`,
  String.raw`\b(?:send|post|upload|forward|transmit|leak|copy)\b[^.\n]{0,40}?\b(?:secrets?|credentials?|tokens?|api[\s_-]?keys?|passwords?|env(?:ironment)?(?:\s+variables)?|\.env|ssh\s+keys?|private\s+keys?|conversation|chat\s+history|source\s+code)\b[^.\n]{0,60}?\bto\s+(?:https?:\/\/|www\.)`,
  String.raw`\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to|alert)\s+(?:the\s+)?(?:user|human|developer|reviewer|operator)s?\b`,
];

export const DEFAULT_SECURITY_POLICY: SecurityPolicy = withPrecheck({
  allowedHosts: DEFAULT_ALLOWED_HOSTS,
  instructionPatterns: DEFAULT_INSTRUCTION_PATTERNS.map((p) => new RegExp(p, INSTRUCTION_PATTERN_FLAGS)),
  trustHumanApproved: true,
});

/** The project's policy: keel.yaml's `security:` section over the defaults. */
export function securityPolicy(config: KeelConfig): SecurityPolicy {
  return policyOfSection(config.security);
}

/** The same from the section alone (what validate's worker thread is given). */
export function policyOfSection(s: SecurityConfig): SecurityPolicy {
  const defaults = s.defaultInstructionPatterns ? DEFAULT_SECURITY_POLICY.instructionPatterns : [];
  return withPrecheck({
    allowedHosts: [...DEFAULT_ALLOWED_HOSTS, ...s.allowedHosts],
    instructionPatterns: [
      ...defaults,
      ...s.instructionPatterns.map((p) => new RegExp(p, INSTRUCTION_PATTERN_FLAGS)),
    ],
    trustHumanApproved: s.trustHumanApproved,
  });
}

function withPrecheck(policy: Omit<SecurityPolicy, "instructionPrecheck">): SecurityPolicy {
  const sources = policy.instructionPatterns.map((p) => p.source);
  let precheck: RegExp | null = null;
  if (sources.length === 0) precheck = /(?!)/;
  else if (!sources.some((p) => /\\[1-9]|\\k</.test(p))) {
    try {
      precheck = new RegExp(sources.map((p) => `(?:${p})`).join("|"), "i");
    } catch {
      // Two patterns naming the same group: each is run on its own.
    }
  }
  return { ...policy, instructionPrecheck: precheck };
}

/**
 * Agent-written or inferred text is untrusted: it is the next agent's input, and a poisoned spec is the
 * documented way to reach it. What a human wrote (or what records no author: an ordinary hand-written spec)
 * is trusted while the policy trusts human-approved requirements; with `trust_human_approved: false`,
 * nothing is. The status does not change the answer today: a human's draft is as trusted as their approved
 * requirement, and an agent's stays untrusted once approved (approval vouches for the intent, not for every
 * character of the text).
 */
export function trustOf(
  input: { provenance?: Provenance; status?: RequirementStatus | null },
  policy: SecurityPolicy,
): Trust {
  return untrustedBecause(input, policy) === null ? "trusted" : "untrusted";
}

/** Why text is untrusted, for a finding's message ("written by an agent"), or null when it is trusted. */
export function untrustedBecause(
  input: { provenance?: Provenance; status?: RequirementStatus | null },
  policy: SecurityPolicy,
): string | null {
  const p = input.provenance;
  if (p?.origin === "agent") return "written by an agent";
  if (p?.basis === "inferred") return "marked inferred";
  return policy.trustHumanApproved ? null : "`security.trust_human_approved` is false";
}
