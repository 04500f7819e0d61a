// keel.yaml's `triggers:` section: which issue-tracker webhooks `keel serve` accepts, where each one's secret is
// (the name of an environment variable: a secret is never written into keel.yaml), which deliveries count (the
// labels, assignees and, for Jira, the statuses a ticket must reach), the capability the draft change is for, and
// whether a plan is started on it. An empty filter lets every value through.
// @req RUN-13
import type { Bad } from "./run-config.js";

export const TRIGGER_PROVIDERS = ["github", "jira"] as const;
export type TriggerProvider = (typeof TRIGGER_PROVIDERS)[number];

export interface TriggerConfig {
  /** The environment variable holding the shared secret the provider signs with. */
  secretEnv: string;
  /** Start `keel run --plan` on the draft change, where policy lets agents work the area. */
  plan: boolean;
  /** The capability the draft change is for (its delta spec, and the policy area that decides `plan`); or none. */
  capability: string | null;
  /** A label event counts only for these labels (GitHub). */
  labels: string[];
  /** An assignment counts only to these people (GitHub login; Jira display name or account ID). */
  assignees: string[];
  /** A Jira transition counts only into these statuses. */
  statuses: string[];
}

export interface TriggersConfig {
  github: TriggerConfig | null;
  jira: TriggerConfig | null;
}

export function defaultTriggers(): TriggersConfig {
  return { github: null, jira: null };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const KEYS: Record<TriggerProvider, readonly string[]> = {
  github: ["secret_env", "plan", "capability", "labels", "assignees"],
  jira: ["secret_env", "plan", "capability", "assignees", "statuses"],
};

/** A filter: one name or a list of names; none is an empty list (everything passes). */
function names(value: unknown, at: Array<string | number>, bad: Bad): string[] {
  if (value == null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string" || v.trim() === ""))
    bad(at, "must be a name or a list of names");
  return (list as string[]).map((v) => v.trim());
}

function parseTrigger(provider: TriggerProvider, value: unknown, bad: Bad): TriggerConfig {
  const at = ["triggers", provider];
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(at, "must be a mapping");
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (!KEYS[provider].includes(key))
      bad([...at, key], `is not a known key (use ${KEYS[provider].join(", ")})`);
  if (typeof t.secret_env !== "string" || !ENV_NAME.test(t.secret_env))
    bad([...at, "secret_env"], "must name the environment variable holding the webhook secret");
  if (t.plan != null && typeof t.plan !== "boolean") bad([...at, "plan"], "must be true or false");
  if (t.capability != null && (typeof t.capability !== "string" || !CAPABILITY.test(t.capability)))
    bad([...at, "capability"], "must be a capability name (its folder under specs/, e.g. payments)");
  return {
    secretEnv: t.secret_env as string,
    plan: (t.plan as boolean | undefined) ?? false,
    capability: (t.capability as string | undefined) ?? null,
    labels: names(t.labels, [...at, "labels"], bad),
    assignees: names(t.assignees, [...at, "assignees"], bad),
    statuses: names(t.statuses, [...at, "statuses"], bad),
  };
}

export function parseTriggers(value: unknown, bad: Bad): TriggersConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    bad(["triggers"], "must be a mapping");
  const triggers = defaultTriggers();
  for (const [provider, entry] of Object.entries(value as Record<string, unknown>)) {
    if (!(TRIGGER_PROVIDERS as readonly string[]).includes(provider))
      bad(["triggers", provider], `is not a known provider (use ${TRIGGER_PROVIDERS.join(" or ")})`);
    triggers[provider as TriggerProvider] = parseTrigger(provider as TriggerProvider, entry, bad);
  }
  return triggers;
}
