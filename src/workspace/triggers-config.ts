// keel.yaml's `triggers:` section: which issue-tracker webhooks `keel serve` accepts, and where each one's secret
// is (the name of an environment variable: a secret is never written into keel.yaml).
// @req RUN-13
import type { Bad } from "./run-config.js";

export interface TriggerConfig {
  /** The environment variable holding the shared secret the provider signs with. */
  secretEnv: string;
  /** Start `keel run --plan` on the draft change, where policy lets agents work the area. */
  plan: boolean;
}

export interface TriggersConfig {
  github: TriggerConfig | null;
  jira: TriggerConfig | null;
}

export function defaultTriggers(): TriggersConfig {
  return { github: null, jira: null };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseTrigger(provider: string, value: unknown, bad: Bad): TriggerConfig {
  const at = ["triggers", provider];
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(at, "must be a mapping");
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (key !== "secret_env" && key !== "plan") bad([...at, key], "is not a known key");
  if (typeof t.secret_env !== "string" || !ENV_NAME.test(t.secret_env))
    bad([...at, "secret_env"], "must name the environment variable holding the webhook secret");
  if (t.plan != null && typeof t.plan !== "boolean") bad([...at, "plan"], "must be true or false");
  return { secretEnv: t.secret_env as string, plan: (t.plan as boolean | undefined) ?? false };
}

export function parseTriggers(value: unknown, bad: Bad): TriggersConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    bad(["triggers"], "must be a mapping");
  const triggers = defaultTriggers();
  for (const [provider, entry] of Object.entries(value as Record<string, unknown>)) {
    if (provider !== "github" && provider !== "jira") bad(["triggers", provider], "is not a known provider");
    triggers[provider as "github" | "jira"] = parseTrigger(provider, entry, bad);
  }
  return triggers;
}
