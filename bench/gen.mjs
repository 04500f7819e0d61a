#!/usr/bin/env node
// Deterministic benchmark corpus generator: N capabilities × M requirements, plus a handful of open changes
// with ADDED/MODIFIED delta specs, in the Keel layout (explicit IDs, markers, references) or the OpenSpec
// layout (no IDs). The same parameters and seed always produce the same bytes. No dependencies.
//
//   node bench/gen.mjs --caps N --reqs M --layout keel|openspec --out DIR [--seed S] [--changes K]
//
// Keel layout:     DIR/keel/{keel.yaml,specs/<cap>/spec.md,changes/<id>/...}
// OpenSpec layout: DIR/openspec/{specs/<cap>/spec.md,changes/<id>/...}
// The output is meant to be valid under OpenSpec's rules (`openspec validate --all --strict`) and free of
// Keel's clarity findings: one SHALL per requirement, no vague terms, every scenario has a THEN.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Bump when the output format changes, so cached corpora are regenerated. */
export const GENERATOR_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------
// Seeded PRNG (xmur3 string hash → sfc32), so output never depends on Math.random or the platform.

function xmur3(str) {
  let h = 1779033703 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

function sfc32(a, b, c, d) {
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A small random source with the helpers the templates need. */
export function makeRng(seed) {
  const h = xmur3(String(seed));
  const next = sfc32(h(), h(), h(), h());
  for (let i = 0; i < 12; i++) next();
  const rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    shuffle: (arr) => {
      const out = arr.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
  return rng;
}

// ---------------------------------------------------------------------------------------------------------
// Vocabulary. Concrete on purpose: no vague terms ("fast", "etc.", "as appropriate"), no TBD/TODO.

const DOMAINS = [
  "billing",
  "payments",
  "refunds",
  "invoices",
  "accounts",
  "sessions",
  "auth",
  "notifications",
  "search",
  "catalog",
  "inventory",
  "orders",
  "shipping",
  "reports",
  "audit",
  "exports",
  "imports",
  "scheduling",
  "webhooks",
  "permissions",
  "teams",
  "projects",
  "comments",
  "attachments",
  "tagging",
  "settings",
  "backups",
  "metrics",
  "alerts",
  "feeds",
  "messaging",
  "profiles",
  "subscriptions",
  "coupons",
  "taxes",
  "ledger",
  "pricing",
  "onboarding",
  "sync",
  "uploads",
];

const ASPECTS = [
  "api",
  "storage",
  "retention",
  "limits",
  "workflow",
  "history",
  "policy",
  "events",
  "queue",
  "cache",
  "lifecycle",
  "access",
  "validation",
  "delivery",
  "reconciliation",
  "localization",
  "archival",
  "quotas",
  "routing",
  "migration",
  "encryption",
  "replication",
  "batching",
  "scheduling",
  "preview",
];

const OBJECTS = [
  "invoice",
  "refund request",
  "session token",
  "export job",
  "webhook delivery",
  "audit entry",
  "user profile",
  "price rule",
  "tax rate",
  "shipment",
  "order line",
  "API key",
  "notification",
  "report",
  "attachment",
  "comment",
  "search document",
  "backup snapshot",
  "subscription",
  "coupon",
  "ledger entry",
  "team membership",
  "project setting",
  "upload",
  "alert rule",
  "metric sample",
  "feed item",
  "message thread",
  "role assignment",
  "schedule slot",
];

// A theme ties a requirement's title, its normative action and its scenarios together, so that each block
// reads like something a product team wrote. `o` is the object noun, `n` a small random number.
const THEMES = [
  {
    title: (o) => `${cap(plural(o))} carry a unique identifier`,
    action: (o) => `reject any ${o} whose identifier is already in use within the same tenant`,
    scenarios: [
      {
        name: (o) => `Duplicate ${o} rejected`,
        given: (o) => `${an(o)} with identifier X exists`,
        when: (o) => `a client submits another ${o} with identifier X`,
        outcome: (o) => `the response status is 409 and no ${o} is stored`,
      },
      {
        name: (o) => `New ${o} accepted`,
        when: (o) => `a client submits ${an(o)} with an unused identifier`,
        outcome: (o) => `the response status is 201 and the ${o} is stored`,
        and: () => "the response includes the new identifier",
      },
      {
        name: () => "Identifier reused across tenants",
        given: (o) => `tenant A owns ${an(o)} with identifier X`,
        when: (o) => `tenant B submits ${an(o)} with identifier X`,
        outcome: (o) => `the ${o} is stored for tenant B`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} record their author`,
    action: (o) => `record the actor, the action and a UTC timestamp for every change to ${an(o)}`,
    scenarios: [
      {
        name: (o) => `${cap(o)} change recorded`,
        when: (o) => `a member updates ${an(o)}`,
        outcome: () => "an audit entry records the member, the action and the time",
      },
      {
        name: () => "Background change attributed to the job",
        when: (o) => `a scheduled job updates ${an(o)}`,
        outcome: () => "the audit entry names the job as the actor",
        and: () => "the entry holds the job run identifier",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are retained for audit`,
    action: (o, n) => `retain each ${o} for at least ${n * 30} days after its last modification`,
    scenarios: [
      {
        name: (o) => `Recent ${o} kept`,
        given: (o, n) => `${an(o)} last modified ${n * 30 - 1} days ago`,
        when: () => "the nightly retention job runs",
        outcome: (o) => `the ${o} is still stored`,
      },
      {
        name: (o) => `Expired ${o} removed`,
        given: (o, n) => `${an(o)} last modified ${n * 30 + 1} days ago`,
        when: () => "the nightly retention job runs",
        outcome: (o) => `the ${o} is removed from storage`,
        and: () => "an audit entry records the removal",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are validated on write`,
    action: (o) =>
      `return HTTP status 422 with error code ${codeOf(o)}_INVALID when ${an(o)} fails schema validation`,
    scenarios: [
      {
        name: (o) => `Malformed ${o} reported`,
        when: (o) => `a client submits ${an(o)} without its required fields`,
        outcome: (o) => `the response status is 422 with error code ${codeOf(o)}_INVALID`,
        and: () => "the error names each missing field",
      },
      {
        name: (o) => `Valid ${o} stored`,
        when: (o) => `a client submits ${an(o)} that matches the schema`,
        outcome: (o) => `the response status is 201 and the ${o} is stored`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are applied at most once`,
    action: (o) => `apply each ${o} at most once per idempotency key`,
    scenarios: [
      {
        name: (o) => `Repeated ${o} ignored`,
        given: (o) => `${an(o)} with idempotency key K was applied`,
        when: (o) => `a second ${o} with idempotency key K arrives`,
        outcome: () => "the original result is returned",
        and: (o) => `no second ${o} is applied`,
      },
      {
        name: () => "Distinct keys applied separately",
        when: (o) => `two ${plural(o)} arrive with different idempotency keys`,
        outcome: (o) => `both ${plural(o)} are applied`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are rate limited per account`,
    action: (o, n) => `limit each account to ${n * 10} new ${plural(o)} per minute`,
    scenarios: [
      {
        name: (o) => `${cap(o)} over the limit refused`,
        given: (o, n) => `an account that created ${n * 10} ${plural(o)} in the last minute`,
        when: (o) => `the account submits another ${o}`,
        outcome: () => "the response status is 429",
        and: () => "the Retry-After header gives the seconds until the window resets",
      },
      {
        name: (o) => `${cap(o)} under the limit accepted`,
        when: (o) => `an account with no recent ${plural(o)} submits one`,
        outcome: (o) => `the response status is 201 and the ${o} is stored`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are encrypted at rest`,
    action: (o) => `encrypt each stored ${o} with the key of the tenant that owns it`,
    scenarios: [
      {
        name: (o) => `${cap(o)} written encrypted`,
        when: (o) => `${an(o)} is written to storage`,
        outcome: () => "the stored bytes are encrypted with the tenant key",
      },
      {
        name: () => "Revoked key blocks reads",
        given: () => "the tenant key has been revoked",
        when: (o) => `a member reads ${an(o)}`,
        outcome: () => "the response status is 423",
        and: () => "an alert is sent to the tenant owners",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} emit change events`,
    action: (o, n) =>
      `publish ${an(eventOf(o))}.changed event within ${n * 5} seconds of each committed change`,
    scenarios: [
      {
        name: (o) => `${cap(o)} change published`,
        when: (o) => `a change to ${an(o)} is committed`,
        outcome: (o) => `${an(eventOf(o))}.changed event is published with the new revision number`,
      },
      {
        name: () => "Rolled back change not published",
        when: (o) => `a transaction that changed ${an(o)} is rolled back`,
        outcome: () => "no event is published",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are listed newest first`,
    action: (o, n) => `list ${plural(o)} ordered by creation time, newest first, in pages of ${n * 10}`,
    scenarios: [
      {
        name: () => "First page",
        given: (o, n) => `a project with ${n * 10 + 5} ${plural(o)}`,
        when: (o) => `a client lists ${plural(o)} without a cursor`,
        outcome: (o, n) => `the response holds the ${n * 10} most recent ${plural(o)}`,
        and: () => "the response includes a cursor for the next page",
      },
      {
        name: () => "Last page",
        when: () => "a client requests the page after the last one",
        outcome: () => "the response holds an empty list and no cursor",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are capped in size`,
    action: (o, n) => `reject ${an(o)} larger than ${n * 64} KiB with HTTP status 413`,
    scenarios: [
      {
        name: (o) => `Oversized ${o} refused`,
        when: (o, n) => `a client submits ${an(o)} of ${n * 64 + 1} KiB`,
        outcome: () => "the response status is 413",
        and: (o) => `no ${o} is stored`,
      },
      {
        name: (o) => `${cap(o)} at the limit accepted`,
        when: (o, n) => `a client submits ${an(o)} of exactly ${n * 64} KiB`,
        outcome: (o) => `the response status is 201 and the ${o} is stored`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are retried on failure`,
    action: (o, n) => `retry a failed ${o} up to ${n + 2} times with exponential backoff`,
    scenarios: [
      {
        name: (o) => `Transient failure of ${an(o)}`,
        given: () => "the downstream service fails once",
        when: (o) => `the ${o} is processed`,
        outcome: (o) => `the ${o} succeeds on the second attempt`,
      },
      {
        name: () => "Retries exhausted",
        given: () => "the downstream service fails on every attempt",
        when: (o, n) => `the ${o} has been attempted ${n + 3} times`,
        outcome: (o) => `the ${o} is marked as failed`,
        and: () => "the operators receive an alert",
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are visible only to members`,
    action: (o) => `show ${an(o)} only to members of the project that owns it`,
    scenarios: [
      {
        name: (o) => `${cap(o)} from another project hidden`,
        given: (o) => `${an(o)} owned by project P`,
        when: () => "a user who is not a member of P requests it",
        outcome: () => "the response status is 404",
      },
      {
        name: (o) => `Member reads the ${o}`,
        when: (o) => `a member of the owning project requests the ${o}`,
        outcome: (o) => `the response status is 200 and the body holds the ${o}`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} keep a change history`,
    action: (o, n) => `keep the last ${n * 10} revisions of each ${o}`,
    scenarios: [
      {
        name: () => "Older revision pruned",
        given: (o, n) => `${an(o)} with ${n * 10} revisions`,
        when: (o) => `the ${o} is changed again`,
        outcome: () => "the oldest revision is removed",
        and: () => "the newest revision is readable",
      },
      {
        name: () => "Revision restored",
        when: (o) => `a member restores revision 2 of ${an(o)}`,
        outcome: (o) => `the ${o} holds the content of revision 2 as a new revision`,
      },
    ],
  },
  {
    title: (o) => `${cap(plural(o))} are reconciled nightly`,
    action: (o) => `compare every ${o} with the ledger each night and report each mismatch`,
    scenarios: [
      {
        name: () => "Mismatch reported",
        given: (o) => `${an(o)} whose amount differs from the ledger`,
        when: () => "the nightly reconciliation runs",
        outcome: (o) => `a mismatch report names the ${o} and both amounts`,
      },
      {
        name: () => "Clean run",
        when: () => "the nightly reconciliation finds no difference",
        outcome: () => "the run is recorded as clean",
      },
    ],
  },
];

const EARS = [
  (body) => `The system SHALL ${body}.`,
  (body, o) => `When a client submits ${an(o)}, the system SHALL ${body}.`,
  (body) => `While the tenant is in maintenance mode, the system SHALL ${body}.`,
  (body, o) => `If ${an(o)} arrives without a tenant identifier, then the system SHALL ${body}.`,
  (body) => `Where the audit add-on is enabled, the system SHALL ${body}.`,
];

const NOTES = [
  "This applies to the public API and to the administration console alike.",
  "Background jobs follow the same rule as interactive requests.",
  "The limit is configured per tenant in the settings service.",
  "Operators can inspect the outcome in the audit log.",
  "Clients receive the same response on every retry.",
];

const TEAMS = ["payments-team", "platform-team", "growth-team", "core-team", "data-team", "security-team"];
const ACTORS = ["codex-7", "claude-3", "gemini-2", "copilot-4"];
const TOOLS = ["codex-cli", "claude-code", "gemini-cli"];
const CHANGE_VERBS = ["add", "extend", "tighten", "revise", "harden", "introduce"];

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function plural(s) {
  if (s.endsWith("y") && !/[aeiou]y$/.test(s)) return `${s.slice(0, -1)}ies`;
  if (/(s|sh|ch|x)$/.test(s)) return `${s}es`;
  return `${s}s`;
}

/** The noun with its indefinite article ("a refund request", "an API key"). */
function an(o) {
  return `${/^[aeiouAEIOU]/.test(o) ? "an" : "a"} ${o}`;
}

function eventOf(o) {
  return o.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

function codeOf(o) {
  return o.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

function titleCase(s) {
  return s
    .split(/[-\s]+/)
    .map((w) => (w === "api" ? "API" : cap(w)))
    .join(" ");
}

/** The derived-ID slug of the Keel dialect: NFKD, strip marks, lowercase, non-[a-z0-9] runs → "-". */
export function slug(title) {
  return title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function isoDate(day) {
  const d = new Date(Date.UTC(2026, 0, 1) + day * 86400000);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------
// The abstract corpus: built once from the seed, rendered into either layout.

function makeScenarios(rng, theme, object, n, count) {
  const chosen = rng.shuffle(theme.scenarios).slice(0, count);
  return chosen.map((t) => {
    const steps = [];
    if (t.given) steps.push(["GIVEN", t.given(object, n)]);
    steps.push(["WHEN", t.when(object, n)]);
    steps.push(["THEN", t.outcome(object, n)]);
    if (t.and && rng.chance(0.6)) steps.push(["AND", t.and(object, n)]);
    return { name: t.name(object, n), steps };
  });
}

function makeText(rng, theme, object, n) {
  let text = rng.pick(EARS)(theme.action(object, n), object);
  if (rng.chance(0.35)) text += ` ${rng.pick(NOTES)}`;
  return text;
}

function makeRequirement(rng, usedTitles) {
  let theme;
  let object;
  let title;
  for (let attempt = 0; ; attempt++) {
    theme = rng.pick(THEMES);
    object = rng.pick(OBJECTS);
    title = theme.title(object);
    if (attempt > 50) title = `${title} (${usedTitles.size + 1})`;
    if (!usedTitles.has(title.toLowerCase())) break;
  }
  usedTitles.add(title.toLowerCase());
  const n = rng.int(1, 9);
  return {
    title,
    theme,
    object,
    n,
    text: makeText(rng, theme, object, n),
    scenarios: makeScenarios(rng, theme, object, n, rng.int(1, theme.scenarios.length)),
  };
}

/** Every domain-aspect pair once, in a fixed shuffled order (independent of the corpus parameters). */
const CAP_NAMES = (() => {
  const pairs = [];
  for (const d of DOMAINS) for (const a of ASPECTS) pairs.push(`${d}-${a}`);
  return makeRng("keel-bench:capability-names").shuffle(pairs);
})();

function capabilityName(i) {
  const base = CAP_NAMES[i % CAP_NAMES.length];
  const round = Math.floor(i / CAP_NAMES.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

/**
 * Build the abstract corpus. Returns { caps, changes, samples } where samples names an existing requirement
 * (explicit and derived ID) and a word that occurs in the corpus, for `keel show` / `keel search` timings.
 */
export function buildCorpus({ caps: nCaps, reqs: nReqs, seed = 1, changes: nChanges }) {
  if (!Number.isInteger(nCaps) || nCaps < 1) throw new Error("--caps must be a positive integer");
  if (!Number.isInteger(nReqs) || nReqs < 1) throw new Error("--reqs must be a positive integer");
  const rng = makeRng(`keel-bench:${seed}:${nCaps}:${nReqs}`);
  const caps = [];
  for (let i = 0; i < nCaps; i++) {
    const name = capabilityName(i);
    const [domain, aspect] = name.split("-");
    const usedTitles = new Set();
    const requirements = [];
    for (let m = 0; m < nReqs; m++) {
      const req = makeRequirement(rng, usedTitles);
      req.id = `CAP${i + 1}-${m + 1}`;
      req.status = rng.chance(0.85) ? "approved" : "proposed";
      req.origin = rng.chance(0.7) ? "human" : "agent";
      req.marker = rng.chance(0.3);
      req.actor = rng.pick(ACTORS);
      req.tool = rng.pick(TOOLS);
      req.at = isoDate(rng.int(0, 300));
      requirements.push(req);
    }
    // References to requirements of earlier capabilities (Keel layout only), so reference resolution has work.
    if (i > 0) {
      for (const req of requirements) {
        if (rng.chance(0.2)) req.ref = `CAP${rng.int(1, i)}-${rng.int(1, nReqs)}`;
      }
    }
    caps.push({
      index: i + 1,
      name,
      domain,
      aspect,
      title: `${titleCase(name)} Specification`,
      owner: rng.pick(TEAMS),
      purpose:
        `${titleCase(`${domain} ${aspect}`)} defines how the product handles ${aspect} for ${domain}. ` +
        `It states the rules that keep ${plural(rng.pick(OBJECTS))} consistent across the REST API, ` +
        "background jobs and the administration console.",
      outOfScope: rng.chance(0.3)
        ? `Bulk ${aspect} operations run by operators from the command line.`
        : null,
      resolvedQuestion: rng.chance(0.2) ? `Does ${aspect} apply to archived ${domain} records? Yes.` : null,
      usedTitles,
      requirements,
    });
  }

  // Open changes: each touches 1–3 capabilities that no other change touches (so there is no overlap),
  // with 1–2 ADDED requirements and one MODIFIED requirement per capability (at most 9 deltas per change).
  const wanted = nChanges ?? Math.min(50, Math.max(3, Math.ceil(nCaps / 100)));
  const order = rng.shuffle(caps.map((_, i) => i));
  const changes = [];
  let next = 0;
  for (let c = 0; c < wanted && next < order.length; c++) {
    const touched = [];
    const count = rng.int(1, 3);
    while (touched.length < count && next < order.length) touched.push(caps[order[next++]]);
    const lead = touched[0];
    const verb = rng.pick(CHANGE_VERBS);
    const id = `${verb}-${lead.domain}-${lead.aspect}-${c + 1}`;
    const deltas = touched.map((capability) => {
      const added = [];
      const nAdded = rng.int(1, 2);
      for (let a = 0; a < nAdded; a++) {
        const req = makeRequirement(rng, capability.usedTitles);
        req.id = `CAP${capability.index}-${capability.requirements.length + a + 1}`;
        added.push(req);
      }
      // A MODIFIED block replaces the whole requirement: it keeps every scenario (updated to the new text)
      // and sometimes adds one the theme offers.
      const base = rng.pick(capability.requirements);
      let n = rng.int(1, 9);
      if (n === base.n) n = (n % 9) + 1;
      const names = new Set(base.scenarios.map((sc) => sc.name));
      const pool = base.theme.scenarios.filter((t) => !names.has(t.name(base.object, n)));
      const keep = base.theme.scenarios.filter((t) => names.has(t.name(base.object, n)));
      const extra = pool.length > 0 && rng.chance(0.5) ? [rng.pick(pool)] : [];
      const modified = {
        ...base,
        n,
        text: makeText(rng, base.theme, base.object, n),
        scenarios: makeScenarios(
          rng,
          { scenarios: keep.concat(extra) },
          base.object,
          n,
          keep.length + extra.length,
        ),
      };
      return { capability, added, modified };
    });
    changes.push({
      id,
      created: isoDate(rng.int(300, 330)),
      author: rng.pick(ACTORS),
      why:
        `Teams working on ${lead.domain} keep asking for clearer ${lead.aspect} rules. ` +
        `Support tickets show that ${plural(lead.requirements[0].object)} behave differently in the REST API ` +
        "and in background jobs, and this change makes the behaviour explicit.",
      deltas,
    });
  }

  const sampleCap = caps[Math.floor(caps.length / 2)];
  const sampleReq = sampleCap.requirements[Math.floor(sampleCap.requirements.length / 2)];
  return {
    caps,
    changes,
    samples: {
      keelId: sampleReq.id,
      openspecId: `${sampleCap.name}/${slug(sampleReq.title)}`,
      word: "reconciled",
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

function renderScenario(s) {
  const lines = [`#### Scenario: ${s.name}`];
  for (const [kw, text] of s.steps) lines.push(`- **${kw}** ${text}`);
  return lines.join("\n");
}

function renderRequirement(req, layout, { withMarker = true } = {}) {
  const keel = layout === "keel";
  const out = [`### Requirement: ${req.title}${keel ? ` {#${req.id}}` : ""}`];
  if (keel && withMarker && req.marker) {
    const basis = req.origin === "agent" ? "inferred" : "explicit";
    const who = req.origin === "agent" ? ` · actor: ${req.actor} · tool: ${req.tool}` : "";
    out.push(`> status: ${req.status} · origin: ${req.origin} · ${basis}${who} · at: ${req.at}`);
  }
  out.push(keel && req.ref ? `${req.text} See [[${req.ref}]].` : req.text);
  for (const s of req.scenarios) out.push("", renderScenario(s));
  return out.join("\n");
}

function renderSpec(capability, layout) {
  const keel = layout === "keel";
  const parts = [];
  if (keel) {
    parts.push(`---\nstatus: approved\nowners: [${capability.owner}]\ntags: [${capability.domain}]\n---`);
  }
  parts.push(`# ${capability.title}`, "## Purpose", capability.purpose, "## Requirements");
  for (const req of capability.requirements) parts.push(renderRequirement(req, layout));
  if (keel && capability.outOfScope) parts.push("## Out of Scope", `- ${capability.outOfScope}`);
  if (keel && capability.resolvedQuestion)
    parts.push("## Open Questions", `- [x] ${capability.resolvedQuestion}`);
  return `${parts.join("\n\n")}\n`;
}

function renderDelta(delta, layout) {
  const parts = ["## ADDED Requirements"];
  for (const req of delta.added) parts.push(renderRequirement(req, layout, { withMarker: false }));
  parts.push("## MODIFIED Requirements", renderRequirement(delta.modified, layout, { withMarker: false }));
  return `${parts.join("\n\n")}\n`;
}

function renderProposal(change) {
  const what = [];
  for (const d of change.deltas) {
    for (const req of d.added) what.push(`- Add "${req.title}" to \`${d.capability.name}\`.`);
    what.push(`- Modify "${d.modified.title}" in \`${d.capability.name}\`.`);
  }
  const affected = change.deltas.map((d) => `\`${d.capability.name}\``).join(", ");
  return [
    "## Why",
    change.why,
    "## What Changes",
    what.join("\n"),
    "## Impact",
    `- Affected specs: ${affected}\n- Affected code: \`src/${change.deltas[0].capability.domain}/\``,
  ]
    .join("\n\n")
    .concat("\n");
}

function renderTasks(change) {
  const impl = change.deltas.map(
    (d, i) => `- [${i === 0 ? "x" : " "}] 1.${i + 1} Implement the ${d.capability.name} changes`,
  );
  return [
    "## 1. Implementation",
    impl.join("\n"),
    "## 2. Verification",
    "- [ ] 2.1 Add scenario tests for every ADDED requirement\n- [ ] 2.2 Run the full validation suite",
  ]
    .join("\n\n")
    .concat("\n");
}

/** Every file of the corpus in one layout, as [relative path, content] pairs. */
export function renderCorpus(corpus, layout) {
  if (layout !== "keel" && layout !== "openspec") throw new Error(`unknown layout: ${layout}`);
  const root = layout === "keel" ? "keel" : "openspec";
  const files = [];
  if (layout === "keel") {
    files.push([
      `${root}/keel.yaml`,
      "# Keel project configuration for a generated benchmark corpus (bench/gen.mjs).\nversion: 1\n",
    ]);
  }
  for (const c of corpus.caps) files.push([`${root}/specs/${c.name}/spec.md`, renderSpec(c, layout)]);
  for (const change of corpus.changes) {
    const dir = `${root}/changes/${change.id}`;
    files.push([`${dir}/proposal.md`, renderProposal(change)]);
    files.push([`${dir}/tasks.md`, renderTasks(change)]);
    if (layout === "keel") {
      files.push([
        `${dir}/change.yaml`,
        `status: draft\nauthor: ${change.author}\ncreated: ${change.created}\n`,
      ]);
    } else {
      files.push([`${dir}/.openspec.yaml`, `schema: spec-driven\ncreated: ${change.created}\n`]);
    }
    for (const d of change.deltas) {
      files.push([`${dir}/specs/${d.capability.name}/spec.md`, renderDelta(d, layout)]);
    }
  }
  return files;
}

/** Write one layout of the corpus under outDir, replacing only the layout's own folder. */
export function writeCorpus(corpus, layout, outDir) {
  const root = layout === "keel" ? "keel" : "openspec";
  rmSync(join(outDir, root), { recursive: true, force: true });
  return writeFiles(outDir, renderCorpus(corpus, layout));
}

/** Writes [relative path, content] pairs under root; returns the file count and bytes. */
export function writeFiles(root, files) {
  const made = new Set();
  let bytes = 0;
  for (const [rel, content] of files) {
    const dir = join(root, rel, "..");
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(join(root, rel), content);
    bytes += Buffer.byteLength(content);
  }
  return { files: files.length, bytes };
}

// ---------------------------------------------------------------------------------------------------------
// CLI.

function parseArgs(argv) {
  const opts = { seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--caps") opts.caps = Number(value());
    else if (arg === "--reqs") opts.reqs = Number(value());
    else if (arg === "--layout") opts.layout = value();
    else if (arg === "--out") opts.out = value();
    else if (arg === "--seed") opts.seed = value();
    else if (arg === "--changes") opts.changes = Number(value());
    else if (arg === "--help" || arg === "-h") opts.help = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  return opts;
}

const USAGE =
  "usage: node bench/gen.mjs --caps N --reqs M --layout keel|openspec --out DIR [--seed S] [--changes K]";

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    if (opts.help) {
      console.log(USAGE);
      return;
    }
    if (opts.caps === undefined || opts.reqs === undefined || !opts.layout || !opts.out)
      throw new Error(USAGE);
    if (opts.layout !== "keel" && opts.layout !== "openspec")
      throw new Error("--layout must be keel or openspec");
    if (opts.changes !== undefined && !(Number.isInteger(opts.changes) && opts.changes >= 0)) {
      throw new Error("--changes must be a non-negative integer");
    }
    const corpus = buildCorpus(opts);
    const out = resolve(opts.out);
    const t0 = performance.now();
    const { files, bytes } = writeCorpus(corpus, opts.layout, out);
    const ms = Math.round(performance.now() - t0);
    console.log(
      `${opts.layout} layout: ${opts.caps} capabilities × ${opts.reqs} requirements, ` +
        `${corpus.changes.length} open changes, ${files} files, ${(bytes / 1048576).toFixed(1)} MiB in ${ms} ms`,
    );
  } catch (err) {
    console.error(`gen: ${err.message}`);
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
