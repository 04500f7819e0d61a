// security/secret: credentials in spec text, found with secretlint's recommended rule preset (a maintained
// ruleset: AWS, GCP, GitHub, Slack, npm, OpenAI, Anthropic, private keys, connection strings with passwords, …)
// rather than a hand-made list. Its rules are plain synchronous functions over a string; Keel calls them
// directly instead of through secretlint's asynchronous engine, so that validate stays one synchronous pass.
// @req TRU-1, TRU-14
import { rules } from "@secretlint/secretlint-rule-preset-recommend";
import type { ScanHit } from "./types.js";

/** The part of secretlint's rule interface Keel uses (its own types package is not a runtime dependency). */
interface SecretlintRule {
  messages?: Record<string, { en: (props: Record<string, string>) => string }>;
  meta: { id: string };
  create(
    context: SecretlintContext,
    options: Record<string, unknown>,
  ): { file?: (source: SecretlintSource) => unknown };
}
interface SecretlintContext {
  report(descriptor: { message: string; range: readonly [number, number] }): void;
  createTranslator(messages: unknown): (id: string, props?: Record<string, string>) => string;
  ignore(): void;
}
interface SecretlintSource {
  content: string;
  filePath: string;
  ext: string;
  contentType: "text";
}

/**
 * Per-rule options: the AWS rule reports a lone access key ID only when asked, and an ID is half of the pair a
 * spec must never hold. The comment filter (`secretlint-disable`) is not a detector and is left out.
 */
const RULE_OPTIONS: Record<string, Record<string, unknown>> = {
  "@secretlint/secretlint-rule-aws": { enableIDScanRule: true },
};
const SKIPPED = new Set(["@secretlint/secretlint-rule-filter-comments"]);

interface Found {
  start: number;
  end: number;
  message: string;
}

/** One run of every rule over `text`; each handler is created per run because it reports into `found`. */
export function scanSecrets(text: string): ScanHit[] {
  const found: Found[] = [];
  const source: SecretlintSource = { content: text, filePath: "spec.md", ext: ".md", contentType: "text" };
  for (const rule of rules as unknown as SecretlintRule[]) {
    if (SKIPPED.has(rule.meta.id)) continue;
    let lastProps: Record<string, string> = {};
    let lastId = "";
    const context: SecretlintContext = {
      createTranslator:
        () =>
        (id, props = {}) => {
          lastId = id;
          lastProps = props;
          return id;
        },
      report: ({ range }) => found.push(located(text, range, lastProps, describe(rule, lastId, lastProps))),
      ignore: () => {},
    };
    // A handler returning a promise reads a binary key file (GCP's .p12); spec text never is one.
    rule.create(context, RULE_OPTIONS[rule.meta.id] ?? {}).file?.(source);
  }
  found.push(...awsExampleKeyIds(text));
  found.push(...secretKeysBesideKeyIds(text, found));
  return distinct(found).map((f) => ({
    rule: "security/secret",
    start: f.start,
    end: f.end,
    message: f.message,
    hint: "remove it from the spec and rotate it: it is in the repository's history; refer to the secret by name instead",
  }));
}

const AWS_KEY_ID_MESSAGE = /^found AWS Access Key ID/u;
/** A secret access key's shape: 40 characters of base64, standing alone. */
const AWS_SECRET_SHAPE =
  /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*[A-Z])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gu;

/**
 * secretlint skips AWS's published example key pair on purpose. Keel reports it: a pasted pair looks the same
 * to every agent and scanner downstream whether it came from AWS's docs or from a console, and a placeholder
 * (`<AWS_ACCESS_KEY_ID>`) says the same thing without the risk. Its secret half is found beside it below.
 */
function awsExampleKeyIds(text: string): Found[] {
  const more: Found[] = [];
  for (let at = text.indexOf(AWS_EXAMPLE_KEY_ID); at >= 0; at = text.indexOf(AWS_EXAMPLE_KEY_ID, at + 1)) {
    more.push({
      start: at,
      end: at + AWS_EXAMPLE_KEY_ID.length,
      message: `found AWS Access Key ID: ${mask(AWS_EXAMPLE_KEY_ID)} (AWS's published example key; write a placeholder instead)`,
    });
  }
  return more;
}
const AWS_EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE";

/**
 * secretlint finds a secret access key only after its label (`aws_secret_access_key = …`). An access key ID is
 * the other half of a pair, so a bare 40-character key on its line or the next one is reported too (the pair is
 * what the scenario pastes: `AKIA… / wJalr…`).
 */
function secretKeysBesideKeyIds(text: string, found: Found[]): Found[] {
  const more: Found[] = [];
  for (const id of found.filter((f) => AWS_KEY_ID_MESSAGE.test(f.message))) {
    const lineStart = text.lastIndexOf("\n", id.start) + 1;
    const afterLine = text.indexOf("\n", id.end);
    const nextEnd = afterLine < 0 ? text.length : text.indexOf("\n", afterLine + 1);
    const near = text.slice(lineStart, nextEnd < 0 ? text.length : nextEnd);
    for (const m of near.matchAll(AWS_SECRET_SHAPE)) {
      const start = lineStart + m.index;
      more.push({
        start,
        end: start + 40,
        message: `found AWS Secret Access Key: ${mask(m[0])} beside an access key ID`,
      });
    }
  }
  return more;
}

/**
 * The secret's own position. Some rules report the whole `KEY = value` match's start with the value's length,
 * so the value named in the message is looked for from the reported start.
 */
function located(
  text: string,
  range: readonly [number, number],
  props: Record<string, string>,
  message: string,
): Found {
  const [start, end] = range;
  for (const value of Object.values(props)) {
    if (typeof value !== "string" || value.length < 8) continue;
    const at = text.indexOf(value, Math.max(0, start - value.length));
    if (at >= 0 && at <= Math.max(end, start + value.length))
      return { start: at, end: at + value.length, message };
  }
  return { start, end: Math.max(end, start + 1), message };
}

/** secretlint's English message with the secret itself masked: findings go to CI logs. */
function describe(rule: SecretlintRule, id: string, props: Record<string, string>): string {
  const masked = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, mask(String(v))]));
  const en = rule.messages?.[id]?.en;
  return en ? en(masked) : `found a secret (${rule.meta.id.replace("@secretlint/secretlint-rule-", "")})`;
}

/** `AKIA…(20 characters)`: enough to find it, not enough to use it. */
export function mask(secret: string): string {
  return secret.length <= 8 ? "…" : `${secret.slice(0, 4)}…(${secret.length} characters)`;
}

function distinct(found: Found[]): Found[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.start}:${f.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
