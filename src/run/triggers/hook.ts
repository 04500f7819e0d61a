// What the two providers (github.ts, jira.ts) share with the delivery handler (index.ts): the ticket a delivery is
// about, a provider's description, and the refusal a delivery gets.
// @req RUN-13
import type { TriggerConfig, TriggerProvider } from "../../workspace/triggers-config.js";

/** The ticket a delivery is about, as the change records it. */
export interface Ticket {
  /** `octo/repo#42`, `PROJ-7`. */
  key: string;
  /** The ticket's page, for a person. */
  url: string;
  title: string;
  /** The ticket's text as written there (untrusted). */
  body: string;
  /** Who wrote the ticket, as the tracker names them. */
  author: string;
  /** What happened: `assigned to alice`, `labeled keel`, `moved from To Do to In Progress`. */
  event: string;
  /** Who did it, as the tracker names them, when it says. */
  sender: string | null;
  /** The change's name: the same for every delivery about the ticket, so one ticket makes one change. */
  changeName: string;
}

/** What a provider made of a verified delivery: a ticket to open a change for, or why it is ignored. */
export type Reading = { ticket: Ticket } | { ignored: string };

export interface HookHeaders {
  [name: string]: string | string[] | undefined;
}

/** One provider: where its signature and delivery ID are, and how its payload reads. */
export interface HookProvider {
  name: TriggerProvider;
  /** `GitHub`, `Jira`: for messages. */
  label: string;
  /** Lower-case header names. */
  signatureHeader: string;
  deliveryHeader: string;
  /** The payload of a verified body (GitHub may send it form-encoded); throws a 400 refusal when it is not one. */
  payload(body: Buffer, headers: HookHeaders): unknown;
  /** Throws a 400 refusal when the payload lacks what a ticket needs. */
  read(payload: unknown, headers: HookHeaders, config: TriggerConfig): Reading;
}

/** A refused delivery: the status the server answers, a stable code, and what to do about it. */
export class HookRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 409 | 503,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export function malformed(provider: HookProvider, what: string): HookRefusal {
  return new HookRefusal(
    400,
    "invalid_payload",
    `the ${provider.label} payload ${what}`,
    `send the ${provider.label} webhook's JSON payload as ${provider.label} does (see docs/run.md)`,
  );
}

export function headerOf(headers: HookHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export type Obj = Record<string, unknown>;

/** A JSON object, or null. */
export function obj(value: unknown): Obj | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : null;
}

/** A string with something in it, or null (a function, such as a missing key's inherited `toString`, is not). */
export function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** Whether a name passes a filter of names (empty: everything passes); names compare case-insensitively. */
export function passes(filter: string[], ...names: Array<string | null | undefined>): boolean {
  if (filter.length === 0) return true;
  const wanted = new Set(filter.map((f) => f.toLowerCase()));
  return names.some((n) => typeof n === "string" && wanted.has(n.toLowerCase()));
}

/** An http(s) URL, or null. */
export function webUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

/** The payload's JSON object, or the 400 that says it is not one. */
export function jsonObject(provider: HookProvider, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HookRefusal(
      400,
      "invalid_json",
      `the ${provider.label} payload is not valid JSON: ${(e as Error).message}`,
      `set the webhook's content type to application/json`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw malformed(provider, "is not a JSON object");
  return value as Record<string, unknown>;
}
