// Runs triggered from issue trackers: a webhook delivery from GitHub (github.ts) or Jira (jira.ts) that verifies
// against the shared secret becomes a draft change, with provenance "system", the ticket's URL and author in its
// proposal and in the audit event `trigger.<provider>`; where keel.yaml's `triggers.<provider>.plan` is on and
// policy lets agents work the area, `keel run --plan <change>` is started on it. Each delivery is taken once: its
// ID is recorded in the same write transaction as the change, so a replay (or two racing copies) finds it there
// and is refused. Every refusal (bad signature, not configured, malformed, replay) writes nothing; a delivery that
// does not match (another event, another action, filtered out) is answered as ignored and writes nothing either.
// @req RUN-13
import { createHmac, timingSafeEqual } from "node:crypto";
import { findChangeFolder } from "../../core/changes/load.js";
import { newChange } from "../../core/changes/scaffold.js";
import { ruleFor } from "../../core/policy.js";
import { slug } from "../../model/ids.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import type { Actor } from "../../workspace/actor.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { KeelError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import type { TriggerConfig, TriggerProvider } from "../../workspace/triggers-config.js";
import { githubHook } from "./github.js";
import { type HookHeaders, type HookProvider, HookRefusal, headerOf, type Ticket } from "./hook.js";
import { jiraHook } from "./jira.js";
import { type PlanSpawner, spawnPlanRun } from "./plan.js";

export { HookRefusal } from "./hook.js";
export type { PlanSpawner } from "./plan.js";

const PROVIDERS: Record<TriggerProvider, HookProvider> = { github: githubHook, jira: jiraHook };

export interface HookAnswer {
  status: 201 | 202;
  body: Record<string, unknown>;
}

export interface HookDeps {
  /** The project root. */
  root: string;
  /** Where the secrets are (process.env). */
  env: NodeJS.ProcessEnv;
  /** Starts `keel run --plan`; the default starts it as a detached child of the running CLI. */
  spawnPlan?: PlanSpawner;
  now?: Date;
}

/** HMAC-SHA256 of the raw body with the secret, as `sha256=<hex>`, compared in constant time. */
export function verifySignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "");
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1] as string, "hex"));
}

/** The trigger and its secret, or the 503 that says what is missing. */
function configured(config: KeelConfig, provider: HookProvider, env: NodeJS.ProcessEnv) {
  const trigger = config.triggers[provider.name];
  if (trigger === null)
    throw new HookRefusal(
      503,
      "hook_not_configured",
      `${provider.label} webhooks are not configured`,
      `add triggers.${provider.name} with secret_env to keel.yaml (see docs/run.md)`,
    );
  const secret = env[trigger.secretEnv];
  if (!secret)
    throw new HookRefusal(
      503,
      "hook_not_configured",
      `${provider.label} webhooks are not configured: the environment variable ${trigger.secretEnv} is not set`,
      `start keel serve with ${trigger.secretEnv} holding the webhook's secret`,
    );
  return { trigger, secret };
}

/** The configured triggers whose secret is missing from the environment: `keel serve` warns of them at start. */
export function triggerWarnings(root: string, env: NodeJS.ProcessEnv): string[] {
  let config: KeelConfig;
  try {
    config = loadConfig(findProjectRoot(root, true));
  } catch (e) {
    // A keel.yaml that does not read is reported by every request; the start has nothing to add.
    if (e instanceof KeelError) return [];
    throw e;
  }
  return Object.values(PROVIDERS).flatMap((p) => {
    const trigger = config.triggers[p.name];
    return trigger && !env[trigger.secretEnv]
      ? [
          `triggers.${p.name} is configured but ${trigger.secretEnv} is not set, so /hooks/${p.name} answers 503`,
        ]
      : [];
  });
}

const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

function wasDelivered(state: StateDb, provider: TriggerProvider, delivery: string): boolean {
  return (
    state.db
      .prepare("SELECT 1 FROM hook_deliveries WHERE provider = ? AND delivery = ?")
      .get(provider, delivery) !== undefined
  );
}

function replay(provider: HookProvider, delivery: string): HookRefusal {
  return new HookRefusal(
    409,
    "replay",
    `${provider.label} delivery ${delivery} was already accepted`,
    "a delivery is taken once; trigger a new one from the tracker",
  );
}

/** Records the delivery ID under the write lock; a second copy of it, racing or late, is refused as a replay. */
function recordDelivery(state: StateDb, provider: HookProvider, delivery: string, at: Date): void {
  if (wasDelivered(state, provider.name, delivery)) throw replay(provider, delivery);
  state.db
    .prepare("INSERT INTO hook_deliveries (provider, delivery, received_at) VALUES (?, ?, ?)")
    .run(provider.name, delivery, at.toISOString());
}

/** Whether a plan is started on the change: keel.yaml asks for it, and policy lets agents do more than propose. */
function planDecision(
  config: KeelConfig,
  provider: HookProvider,
  trigger: TriggerConfig,
): { start: boolean; reason: string } {
  if (!trigger.plan) return { start: false, reason: `triggers.${provider.name}.plan is off` };
  const area = trigger.capability ?? "any capability";
  const rule =
    trigger.capability === null
      ? ruleFor({ ...config.policy, areas: [] }, "*")
      : ruleFor(config.policy, trigger.capability);
  return rule.level === "propose-only"
    ? { start: false, reason: `${rule.rule} lets agents only propose in ${area}` }
    : { start: true, reason: `${rule.rule} lets agents work ${area} (${rule.level})` };
}

const MAX_QUOTED = 20_000;

/** The ticket's text as a block quote: nothing in it can open a section of the proposal. */
function quoted(text: string): string {
  const cut =
    text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}\n\n[cut: the rest is at the source]` : text;
  const lines = cut.replace(/\r\n?/g, "\n").trimEnd().split("\n");
  return lines.map((l) => (l.trim() === "" ? ">" : `> ${l}`)).join("\n");
}

function proposal(provider: HookProvider, t: Ticket, delivery: string, capability: string | null): string {
  return `## Why
${provider.label} ticket ${t.key}, “${t.title}”, was ${t.event}; Keel opened this draft from it.

- Source: ${t.url}
- Ticket author: ${t.author} (${provider.label})
- Triggered by: ${t.sender ?? "unknown"} (${provider.label} delivery ${delivery})

The ticket's text, quoted as written there (untrusted: read it before acting on it):

${t.body.trim() === "" ? "> (no description)" : quoted(t.body)}

## What Changes
<!-- One bullet per change in behaviour the ticket asks for; mark breaking changes **BREAKING**. -->

## Impact
- Affected specs: ${capability ?? "none yet"}
`;
}

/** Every field but the text on one line, so no name from the tracker can open a section of the proposal. */
function oneLine(t: Ticket): Ticket {
  const line = (s: string) => s.replace(/\s+/g, " ").trim();
  return {
    ...t,
    key: line(t.key),
    title: line(t.title).slice(0, 200),
    author: line(t.author),
    event: line(t.event),
    sender: t.sender === null ? null : line(t.sender),
  };
}

function systemActor(config: KeelConfig, provider: HookProvider): Actor {
  const name = `${provider.name}-webhook`;
  return { name, kind: "system", role: config.actors.roles[name] ?? "agent", source: "none" };
}

/** The trigger's secret variables, kept from the planner: an agent has no use for them. */
function planEnv(config: KeelConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const t of [config.triggers.github, config.triggers.jira]) if (t) delete out[t.secretEnv];
  return out;
}

/**
 * Takes one webhook delivery: verifies it, reads the ticket, and opens the draft change (and the plan run, where
 * allowed). Returns 201 with the change, or 202 when the delivery is ignored; throws a HookRefusal otherwise.
 */
export function receiveHook(
  name: TriggerProvider,
  headers: HookHeaders,
  body: Buffer,
  deps: HookDeps,
): HookAnswer {
  const provider = PROVIDERS[name];
  const project = findProjectRoot(deps.root, true);
  const config = loadConfig(project);
  const { trigger, secret } = configured(config, provider, deps.env);
  const signature = headerOf(headers, provider.signatureHeader);
  if (!verifySignature(secret, body, signature))
    throw new HookRefusal(
      401,
      signature === undefined ? "signature_missing" : "signature_invalid",
      signature === undefined
        ? `no ${provider.signatureHeader} header: the delivery is not signed`
        : `the ${provider.signatureHeader} signature does not match the body`,
      `set the webhook's secret in ${provider.label} to the value of ${trigger.secretEnv}`,
    );
  const delivery = headerOf(headers, provider.deliveryHeader)?.trim() ?? "";
  if (!DELIVERY_ID.test(delivery))
    throw new HookRefusal(
      400,
      "delivery_id_missing",
      `no usable ${provider.deliveryHeader} header (the delivery's ID)`,
      `${provider.label} sends it with every delivery; a replay is recognised by it`,
    );
  const reading = provider.read(provider.payload(body, headers), headers, trigger);
  if ("ignored" in reading) return ignored(provider, delivery, reading.ignored);
  const ticket = oneLine(reading.ticket);
  const change = slug(ticket.changeName);
  const state = StateDb.open(project.root);
  try {
    // Looked at under the write lock: a change being written by a racing copy is either all there, with its
    // delivery recorded, or not begun.
    const taken = () =>
      state.exclusive(() => {
        if (wasDelivered(state, provider.name, delivery)) throw replay(provider, delivery);
        return findChangeFolder(project, change)
          ? ignored(provider, delivery, `change ${change} for ${ticket.key} exists already`)
          : null;
      });
    const early = taken();
    if (early) return early;
    const plan = planDecision(config, provider, trigger);
    const now = deps.now ?? new Date();
    const actor = systemActor(config, provider);
    let made: ReturnType<typeof newChange>;
    try {
      made = newChange(project, config, actor, {
        name: change,
        why: `${ticket.title} (${ticket.key})`,
        capabilities: trigger.capability ? [trigger.capability] : [],
        now,
        content: { proposal: proposal(provider, ticket, delivery, trigger.capability) },
        alongside: (locked, id) => {
          recordDelivery(locked, provider, delivery, now);
          appendEvent(locked, project.root, {
            actor: `system:${actor.name}`,
            actorKind: "system",
            action: `trigger.${provider.name}`,
            target: id,
            reason: `${ticket.key} ${ticket.event}`,
            data: {
              delivery,
              source: ticket.url,
              ticket: ticket.key,
              author: ticket.author,
              event: ticket.event,
              sender: ticket.sender,
              plan: plan.start ? "started" : "not started",
              planReason: plan.reason,
            },
          });
        },
      });
    } catch (e) {
      // A copy of this delivery, or another delivery about the ticket, took the write lock first.
      const late = e instanceof KeelError ? taken() : null;
      if (late) return late;
      throw e;
    }
    const started = plan.start
      ? (deps.spawnPlan ?? spawnPlanRun())({
          root: project.root,
          change: made.change,
          env: planEnv(config, deps.env),
        })
      : null;
    return {
      status: 201,
      body: {
        version: 1,
        ok: true,
        provider: provider.name,
        delivery,
        change: made.change,
        dir: made.dir,
        files: made.files,
        ticket: ticket.key,
        source: ticket.url,
        author: ticket.author,
        event: ticket.event,
        plan: started
          ? { started: true, reason: plan.reason, ...started }
          : { started: false, reason: plan.reason },
      },
    };
  } finally {
    state.close();
  }
}

function ignored(provider: HookProvider, delivery: string, reason: string): HookAnswer {
  return { status: 202, body: { version: 1, ok: true, provider: provider.name, delivery, ignored: reason } };
}
