#!/usr/bin/env node
// Deterministic projects in other toolkits' layouts, for the layout benchmarks (bench/issue11.mjs):
//   - Spec Kit: `specs/NNN-<feature>/{spec.md,tasks.md}` and `.specify/memory/constitution.md`, shaped like
//     github/spec-kit's spec and tasks templates (prioritised user stories with Given/When/Then scenarios,
//     edge cases, FR-###, key entities, SC-###; tasks in Setup, Foundational, one phase per story and Polish);
//   - Kiro: `.kiro/specs/<feature>/{requirements.md,tasks.md}` and one steering file, shaped like Kiro's
//     documents (`### Requirement N`, `**User Story:**`, numbered WHEN/IF … THEN … SHALL criteria; a nested
//     implementation plan whose tasks carry `_Requirements: N.M_`);
//   - Keel: the same-sized twin of both, a capability spec and a capability `tasks.md` per feature;
//   - Beads: `.beads/issues.jsonl`, one issue per line with the fields of bd's `types.Issue`.
// The three Markdown layouts are rendered from one abstract corpus (gen.mjs's buildCorpus), so each feature
// holds the same requirements in every layout; the Beads graph is gen-tasks.mjs's task graph. Same parameters,
// same bytes.
//
//   node bench/gen-layouts.mjs --layout speckit|kiro|keel --out DIR [--features N] [--reqs M] [--seed S]
//   node bench/gen-layouts.mjs --layout beads|taskmaster --out DIR [--issues N]

import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildCorpus, makeRng, slug, writeCorpus, writeFiles } from "./gen.mjs";
import { buildTaskGraph, writeTaskmasterTasks } from "./gen-tasks.mjs";

/** Bump when the output changes. */
export const LAYOUTS_GENERATOR_VERSION = 1;

const PERSONAS = ["workspace owner", "billing administrator", "support agent", "tenant member", "operator"];
const BENEFITS = [
  "the numbers I report match what customers see",
  "I can answer a customer without opening a ticket",
  "nothing changes behind my back",
  "an audit finds every change explained",
  "my team does not repeat work the system already did",
];
const FIRST_DAY = Date.UTC(2025, 0, 6);

/** A title inside a sentence: first letter lowercased, unless the word is an acronym ("API keys"). */
function lcfirst(s) {
  return /^[A-Z][A-Z]/.test(s) ? s : s.charAt(0).toLowerCase() + s.slice(1);
}

function isoDate(day) {
  return new Date(FIRST_DAY + day * 86_400_000).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------
// The abstract feature corpus

/**
 * `features` capabilities × `reqs` requirements from gen.mjs (no open changes), each with a plan of how
 * Spec Kit splits its requirements into user stories, FR and SC, how Kiro groups them into requirements, and
 * how far its tasks are done. Older features (lower numbers) are finished, the newest not started.
 */
export function buildFeatureCorpus({ features, reqs = 10, seed = 1 }) {
  if (!Number.isInteger(reqs) || reqs < 4) throw new Error("--reqs must be an integer of at least 4");
  const corpus = buildCorpus({ caps: features, reqs, seed, changes: 0 });
  const rng = makeRng(`keel-bench-layouts:${seed}:${features}:${reqs}`);
  corpus.caps.forEach((cap, i) => {
    const stories = Math.min(rng.int(2, 4), reqs - 2);
    const criteria = Math.min(rng.int(1, 3), reqs - stories - 1);
    const groups = [];
    for (let at = 0; at < reqs; ) {
      const size = Math.min(rng.int(2, 4), reqs - at);
      groups.push(cap.requirements.slice(at, at + size));
      at += size;
    }
    const age = i / features;
    cap.plan = {
      number: String(i + 1).padStart(3, "0"),
      stories: cap.requirements.slice(0, stories),
      functional: cap.requirements.slice(stories, reqs - criteria),
      success: cap.requirements.slice(reqs - criteria),
      kiroGroups: groups,
      // The share of the feature's tasks done, in file order: a plan under way.
      doneShare: age < 0.7 ? 1 : age < 0.9 ? rng.int(2, 8) / 10 : 0,
      persona: rng.pick(PERSONAS),
      benefit: rng.pick(BENEFITS),
      created: isoDate(i % 330),
    };
  });
  return corpus;
}

function featureTitle(cap) {
  return cap.title.replace(/ Specification$/, "");
}

/** The requirement's normative sentence without its EARS condition: what the system SHALL do. */
function actionOf(req) {
  return req.theme.action(req.object, req.n);
}

function stepText(scenario, keyword) {
  return scenario.steps.find(([kw]) => kw === keyword)?.[1];
}

/** Marks the first `share` of a task list done, in order, as a team working through its plan would. */
function doneFlags(count, share) {
  const done = Math.round(count * share);
  return Array.from({ length: count }, (_, i) => i < done);
}

// ---------------------------------------------------------------------------------------------------------
// Spec Kit

function speckitScenario(scenario, index, cap) {
  const given = stepText(scenario, "GIVEN") ?? `a tenant with ${cap.domain} ${cap.aspect} enabled`;
  const and = stepText(scenario, "AND");
  return (
    `${index + 1}. **Given** ${given}, **When** ${stepText(scenario, "WHEN")}, ` +
    `**Then** ${stepText(scenario, "THEN")}${and ? `, **And** ${and}` : ""}`
  );
}

function speckitStory(req, k, cap) {
  const first = req.scenarios[0];
  return [
    `### User Story ${k + 1} - ${req.title} (Priority: P${k + 1})`,
    `As a ${cap.plan.persona}, I need the guarantee that ${lcfirst(req.title)}, so that ${cap.plan.benefit}.`,
    k === 0
      ? `**Why this priority**: Without it ${cap.domain} ${cap.aspect} has no value; every other story builds on it.`
      : `**Why this priority**: It completes story ${k} for the cases teams meet once the feature is in use.`,
    `**Independent Test**: Can be fully tested when ${stepText(first, "WHEN")}, and delivers that guarantee on its own.`,
    "**Acceptance Scenarios**:",
    req.scenarios.map((s, i) => speckitScenario(s, i, cap)).join("\n"),
  ].join("\n\n");
}

function speckitSpec(cap) {
  const { plan } = cap;
  const edgeCases = plan.functional.map((req) => {
    const s = req.scenarios[0];
    return `- What happens when ${stepText(s, "WHEN")}? ${stepText(s, "THEN").replace(/^./, (c) => c.toUpperCase())}.`;
  });
  const entities = [...new Set(cap.requirements.map((r) => r.object))].slice(0, 3);
  return [
    `# Feature Specification: ${featureTitle(cap)}`,
    [
      `**Feature Branch**: \`${plan.number}-${cap.name}\`  `,
      `**Created**: ${plan.created}  `,
      "**Status**: Draft  ",
      `**Input**: User description: "${cap.purpose}"`,
    ].join("\n"),
    "## User Scenarios & Testing *(mandatory)*",
    plan.stories.map((req, k) => speckitStory(req, k, cap)).join("\n\n---\n\n"),
    "### Edge Cases",
    edgeCases.join("\n"),
    "## Requirements *(mandatory)*",
    "### Functional Requirements",
    plan.functional
      .map((req, i) => `- **FR-${String(i + 1).padStart(3, "0")}**: ${req.text.replace(" SHALL ", " MUST ")}`)
      .join("\n"),
    "### Key Entities *(include if feature involves data)*",
    entities
      .map(
        (o) =>
          `- **${o.replace(/^./, (c) => c.toUpperCase())}**: owned by one tenant; ${cap.aspect} rules apply to it.`,
      )
      .join("\n"),
    "## Success Criteria *(mandatory)*",
    "### Measurable Outcomes",
    plan.success
      .map(
        (req, i) =>
          `- **SC-${String(i + 1).padStart(3, "0")}**: In a load test of ${req.n * 1000} requests, ` +
          `"${lcfirst(req.title)}" holds for every request and the 95th percentile response stays under ${req.n * 50} ms.`,
      )
      .join("\n"),
    "## Assumptions",
    `- The ${cap.domain} service already authenticates every request; sign-in is a separate feature.`,
  ]
    .join("\n\n")
    .concat("\n");
}

/** The tasks of one feature, by phase, as Spec Kit's /tasks command lays them out. */
function speckitTaskPhases(cap) {
  const dir = `src/${cap.domain}/${cap.aspect}`;
  const phases = [
    {
      heading: "Phase 1: Setup (Shared Infrastructure)",
      intro: "**Purpose**: Project initialization and basic structure",
      tasks: [
        [`Create the ${dir}/ module structure per the implementation plan`, false],
        [`Register the ${cap.name} routes in src/api/routes.ts`, false],
        [`Configure linting for ${dir}/ in biome.json`, true],
      ],
    },
    {
      heading: "Phase 2: Foundational (Blocking Prerequisites)",
      intro:
        "**Purpose**: Core infrastructure that MUST be complete before ANY user story can be implemented\n\n" +
        "**⚠️ CRITICAL**: No user story work can begin until this phase is complete",
      tasks: [
        [
          `Create the ${cap.name} tables in migrations/${cap.plan.number}_${cap.domain}_${cap.aspect}.sql`,
          false,
        ],
        [`Implement the tenant guard in ${dir}/guard.ts`, true],
      ],
    },
  ];
  cap.plan.stories.forEach((req, k) => {
    const file = slug(req.title);
    const story = `[US${k + 1}]`;
    const tests = [[`${story} Contract test for "${req.title}" in tests/contract/${file}.test.ts`, true]];
    if (req.scenarios.length > 1) {
      tests.push([
        `${story} Integration test for "${req.scenarios[1].name}" in tests/integration/${file}.test.ts`,
        true,
      ]);
    }
    phases.push({
      heading: `Phase ${k + 3}: User Story ${k + 1} - ${req.title} (Priority: P${k + 1})${k === 0 ? " 🎯 MVP" : ""}`,
      intro:
        `**Goal**: ${cap.plan.persona.replace(/^./, (c) => c.toUpperCase())}s get the guarantee that ${lcfirst(req.title)}.` +
        `\n\n**Independent Test**: ${req.scenarios[0].name}.`,
      tasks: [],
      sections: [
        { heading: `Tests for User Story ${k + 1} ⚠️`, tasks: tests },
        {
          heading: `Implementation for User Story ${k + 1}`,
          tasks: [
            [`${story} Create the ${req.object} model in ${dir}/models/${slug(req.object)}.ts`, true],
            [`${story} Implement "${req.title}" in ${dir}/services/${file}.ts`, false],
          ],
        },
      ],
    });
  });
  phases.push({
    heading: `Phase ${cap.plan.stories.length + 3}: Polish & Cross-Cutting Concerns`,
    intro: "**Purpose**: Improvements that affect multiple user stories",
    tasks: [
      [`Document ${cap.domain} ${cap.aspect} in docs/${cap.name}.md`, true],
      ["Run quickstart.md validation", false],
    ],
  });
  return phases;
}

function speckitTasks(cap) {
  const phases = speckitTaskPhases(cap);
  const sectionsOf = (phase) => phase.sections ?? [{ heading: null, tasks: phase.tasks }];
  const count = phases.flatMap(sectionsOf).reduce((n, s) => n + s.tasks.length, 0);
  const done = doneFlags(count, cap.plan.doneShare);
  let next = 0;
  const taskLines = (tasks) =>
    tasks
      .map(([text, parallel]) => {
        const i = next++;
        const id = `T${String(i + 1).padStart(3, "0")}`;
        return `- [${done[i] ? "x" : " "}] ${id}${parallel ? " [P]" : ""} ${text}`;
      })
      .join("\n");
  const body = phases.map((phase) =>
    [
      `## ${phase.heading}`,
      phase.intro,
      ...sectionsOf(phase).flatMap((s) =>
        s.heading ? [`### ${s.heading}`, taskLines(s.tasks)] : [taskLines(s.tasks)],
      ),
    ].join("\n\n"),
  );
  return [
    `---\ndescription: "Task list for ${featureTitle(cap)}"\n---`,
    `# Tasks: ${featureTitle(cap)}`,
    `**Input**: Design documents from \`/specs/${cap.plan.number}-${cap.name}/\`  \n` +
      "**Prerequisites**: plan.md (required), spec.md (required for user stories)",
    "## Format: `[ID] [P?] [Story] Description`\n\n" +
      "- **[P]**: Can run in parallel (different files, no dependencies)\n" +
      "- **[Story]**: Which user story this task belongs to (e.g., US1, US2, US3)",
    body.join("\n\n---\n\n"),
    "## Dependencies & Execution Order\n\n" +
      "- **Setup (Phase 1)**: No dependencies - can start immediately\n" +
      "- **Foundational (Phase 2)**: Depends on Setup completion - BLOCKS all user stories\n" +
      "- **User Stories (Phase 3+)**: All depend on Foundational phase completion\n" +
      "- **Polish (Final Phase)**: Depends on all desired user stories being complete",
  ]
    .join("\n\n")
    .concat("\n");
}

const SPECKIT_CONSTITUTION = `# Bench Project Constitution

## Core Principles

### I. Library-First
Every feature starts as a standalone module with its own tests and no hidden coupling.

### II. Test-First (NON-NEGOTIABLE)
Tests are written and approved before the implementation; they fail first, then pass.

### III. Observability
Every request is logged with the tenant, the actor and the outcome.

## Governance
This constitution supersedes other practices; amendments need a documented reason and a migration plan.

**Version**: 1.0.0 | **Ratified**: 2025-01-06 | **Last Amended**: 2025-01-06
`;

/** The Spec Kit project as [path, content] pairs. */
export function renderSpeckit(corpus) {
  const files = [[".specify/memory/constitution.md", SPECKIT_CONSTITUTION]];
  for (const cap of corpus.caps) {
    const dir = `specs/${cap.plan.number}-${cap.name}`;
    files.push([`${dir}/spec.md`, speckitSpec(cap)], [`${dir}/tasks.md`, speckitTasks(cap)]);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------
// Kiro

/** One EARS acceptance criterion in Kiro's wording, from the requirement's sentence and first scenario. */
function kiroCriterion(req) {
  const action = actionOf(req);
  const condition = req.text.match(/^(When|If) (.+?),(?: then)? the system SHALL /);
  if (condition?.[1] === "If") return `IF ${condition[2]} THEN the system SHALL ${action}`;
  const when = condition ? condition[2] : stepText(req.scenarios[0], "WHEN");
  return `WHEN ${when} THEN the system SHALL ${action}`;
}

function kiroRequirements(cap) {
  const { plan } = cap;
  const blocks = plan.kiroGroups.map((group, g) =>
    [
      `### Requirement ${g + 1}`,
      `**User Story:** As a ${plan.persona}, I want the guarantee that ${lcfirst(group[0].title)}, so that ${plan.benefit}`,
      "#### Acceptance Criteria",
      group.map((req, c) => `${c + 1}. ${kiroCriterion(req)}`).join("\n"),
    ].join("\n\n"),
  );
  return ["# Requirements Document", "## Introduction", cap.purpose, "## Requirements", ...blocks]
    .join("\n\n")
    .concat("\n");
}

/** Kiro's implementation plan: a setup task, then per requirement a parent task with one child per criterion. */
function kiroTasks(cap) {
  const { plan } = cap;
  const dir = `src/${cap.domain}/${cap.aspect}`;
  const entries = [
    { depth: 0, id: "1.", title: `Set up the ${dir}/ module structure and core interfaces`, reqs: ["1.1"] },
  ];
  plan.kiroGroups.forEach((group, g) => {
    const n = g + 2;
    entries.push({ depth: 0, id: `${n}.`, title: `Implement ${lcfirst(group[0].title)}` });
    group.forEach((req, c) => {
      entries.push({
        depth: 1,
        id: `${n}.${c + 1}`,
        title: req.title,
        detail: `Cover "${req.scenarios[0].name}"`,
        reqs: [`${g + 1}.${c + 1}`],
      });
    });
    entries.push({
      depth: 1,
      id: `${n}.${group.length + 1}`,
      title: `Write unit tests for requirement ${g + 1}`,
      optional: true,
      reqs: group.map((_, c) => `${g + 1}.${c + 1}`),
    });
  });
  // Only leaves carry a checkbox state of their own; a parent is ticked once all its children are.
  const leaves = entries.filter((e, i) => e.depth === 1 || entries[i + 1]?.depth !== 1);
  const done = doneFlags(leaves.length, plan.doneShare);
  const doneById = new Map(leaves.map((e, i) => [e.id, done[i]]));
  const lines = ["# Implementation Plan", ""];
  entries.forEach((e, i) => {
    const children = [];
    for (let j = i + 1; j < entries.length && entries[j].depth > e.depth; j++) children.push(entries[j]);
    const checked = children.length > 0 ? children.every((c) => doneById.get(c.id)) : doneById.get(e.id);
    const pad = "  ".repeat(e.depth);
    if (e.depth === 0 && i > 0) lines.push("");
    lines.push(`${pad}- [${checked ? "x" : " "}]${e.optional ? "*" : ""} ${e.id} ${e.title}`);
    if (e.detail) lines.push(`${pad}  - ${e.detail}`);
    if (e.reqs) lines.push(`${pad}  - _Requirements: ${e.reqs.join(", ")}_`);
  });
  return `${lines.join("\n")}\n`;
}

const KIRO_STEERING = `---
inclusion: always
---

# Product

A multi-tenant back office. Every rule applies to the REST API, background jobs and the administration
console alike; tenants never see each other's data.
`;

/** The Kiro project as [path, content] pairs. */
export function renderKiro(corpus) {
  const files = [[".kiro/steering/product.md", KIRO_STEERING]];
  for (const cap of corpus.caps) {
    const dir = `.kiro/specs/${cap.name}`;
    files.push([`${dir}/requirements.md`, kiroRequirements(cap)], [`${dir}/tasks.md`, kiroTasks(cap)]);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------
// Keel: the same-sized twin (gen.mjs's capability specs, plus a tasks.md per capability covering each requirement)

function keelTasks(cap) {
  const reqTasks = cap.requirements.map((req, m) => ({
    id: `2.${m + 1}`,
    title: `Implement ${lcfirst(req.title)}`,
    fields: [`covers: ${req.id}`, "depends-on: 1.2"],
  }));
  const all = [
    { id: "1.1", title: `Create the src/${cap.domain}/${cap.aspect}/ module structure`, fields: [] },
    { id: "1.2", title: `Register the ${cap.name} routes in src/api/routes.ts`, fields: ["depends-on: 1.1"] },
    ...reqTasks,
    {
      id: "3.1",
      title: `Run the scenario tests of ${cap.name}`,
      fields: [`depends-on: ${reqTasks.map((t) => t.id).join(", ")}`],
    },
  ];
  const done = doneFlags(all.length, cap.plan.doneShare);
  const line = (t, i) => [
    `- [${done[i] ? "x" : " "}] ${t.id} ${t.title}`,
    ...t.fields.map((f) => `  - ${f}`),
  ];
  const section = (heading, from, to) => [
    heading,
    "",
    ...all.slice(from, to).flatMap((t, i) => line(t, from + i)),
  ];
  return [
    `# Tasks: ${cap.name}`,
    "",
    ...section("## 1. Setup", 0, 2),
    "",
    ...section("## 2. Requirements", 2, 2 + reqTasks.length),
    "",
    ...section("## 3. Verification", 2 + reqTasks.length, all.length),
  ]
    .join("\n")
    .concat("\n");
}

// ---------------------------------------------------------------------------------------------------------
// Beads

const ISSUE_TYPES = ["task", "task", "task", "bug", "bug", "feature", "chore"];
const BEADS_PRIORITY = { high: 1, medium: 2, low: 3 };
const ASSIGNEES = ["alice", "bob", "claude", "codex"];

/** bd's hash IDs: base36 of a SHA-256, 6 characters at this database size; a collision takes the next nonce. */
function hashId(seed, index, taken) {
  for (let nonce = 0; ; nonce++) {
    const digest = createHash("sha256").update(`${seed}:${index}:${nonce}`).digest();
    const id = `bd-${digest.readBigUInt64BE(0).toString(36).slice(-6).padStart(6, "0")}`;
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

function goTime(ms) {
  // Go's RFC 3339 with nanoseconds, as encoding/json writes a time.Time.
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/**
 * `n` issues: gen-tasks.mjs's graph (two earlier tasks blocking each, the older ones more often closed) in groups
 * of 50, the first half of the groups under an epic with hierarchical child IDs (`bd-xxxxxx.1`), plus a few
 * non-blocking `discovered-from` and `related` edges. Open tasks are sometimes in progress or blocked.
 */
export function buildBeadsGraph(n, { seed = 7, perGroup = 50 } = {}) {
  const groups = Math.ceil(n / (perGroup + 1));
  const epics = Math.ceil(groups / 2);
  const tasks = buildTaskGraph(n - epics, { perFeature: perGroup, seed });
  const rng = makeRng(`keel-bench-beads:${seed}:${n}`);
  const taken = new Set();
  const epicIds = Array.from({ length: epics }, (_, g) => hashId(seed, `epic-${g}`, taken));
  const idOf = new Map();
  const childCount = new Map();
  for (const t of tasks) {
    const g = Math.ceil(t.id / perGroup) - 1;
    if (g < epics) {
      const k = (childCount.get(g) ?? 0) + 1;
      childCount.set(g, k);
      idOf.set(t.id, `${epicIds[g]}.${k}`);
    } else idOf.set(t.id, hashId(seed, t.id, taken));
  }
  const start = Date.UTC(2025, 5, 2, 9);
  const issues = [];
  for (const t of tasks) {
    const g = Math.ceil(t.id / perGroup) - 1;
    const id = idOf.get(t.id);
    const created = start + t.id * 600_000;
    const roll = rng.next();
    const status = t.done ? "closed" : roll < 0.08 ? "in_progress" : roll < 0.11 ? "blocked" : "open";
    const deps = t.deps.map((d) => ({ type: "blocks", on: idOf.get(d) }));
    if (g < epics) deps.unshift({ type: "parent-child", on: epicIds[g] });
    if (t.id > 10 && rng.chance(0.05))
      deps.push({ type: "discovered-from", on: idOf.get(rng.int(1, t.id - 1)) });
    if (t.id > 10 && rng.chance(0.03)) deps.push({ type: "related", on: idOf.get(rng.int(1, t.id - 1)) });
    issues.push({
      id,
      title: t.title,
      description: `Step ${t.id} of group ${g + 1}.`,
      status,
      priority: rng.chance(0.03) ? 0 : rng.chance(0.05) ? 4 : BEADS_PRIORITY[t.priority],
      issue_type: rng.pick(ISSUE_TYPES),
      assignee: status === "in_progress" ? rng.pick(ASSIGNEES) : undefined,
      created,
      closed: status === "closed" ? created + rng.int(1, 72) * 3_600_000 : undefined,
      labels: rng.chance(0.3) ? [`group-${g + 1}`] : undefined,
      deps,
    });
  }
  epicIds.forEach((id, g) => {
    const children = issues.filter((i) => i.id.startsWith(`${id}.`));
    const closed = children.every((c) => c.status === "closed");
    const created = start + g * perGroup * 600_000 - 60_000;
    issues.push({
      id,
      title: `Epic: rollout group ${g + 1}`,
      description: `Tracks the ${children.length} steps of group ${g + 1}.`,
      status: closed ? "closed" : "open",
      priority: 1,
      issue_type: "epic",
      created,
      closed: closed ? Math.max(...children.map((c) => c.closed)) : undefined,
      deps: [],
    });
  });
  return issues.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The ready issues by Keel's documented rule (docs/format.md, Tasks): open, no children, and every blocking
 * dependency closed, for the issue and its parent. Counted here from the graph, independently of Keel.
 */
export function beadsReadyCount(issues) {
  const byId = new Map(issues.map((i) => [i.id, i]));
  const parents = new Set(
    issues.flatMap((i) => i.deps.filter((d) => d.type === "parent-child").map((d) => d.on)),
  );
  const unblocked = (issue) =>
    issue.deps.every((d) => d.type !== "blocks" || byId.get(d.on)?.status === "closed");
  return issues.filter((issue) => {
    if (issue.status !== "open" || parents.has(issue.id) || !unblocked(issue)) return false;
    const parent = issue.deps.find((d) => d.type === "parent-child");
    const up = parent ? byId.get(parent.on) : null;
    return !up || (up.status !== "blocked" && unblocked(up));
  }).length;
}

/** One issue as bd exports it: compact JSON, fields in `types.Issue` order, empty optional fields left out. */
function beadsLine(issue) {
  const json = {
    id: issue.id,
    title: issue.title,
    description: issue.description,
    status: issue.status,
    priority: issue.priority,
    issue_type: issue.issue_type,
    assignee: issue.assignee,
    created_at: goTime(issue.created),
    updated_at: goTime(issue.closed ?? issue.created),
    closed_at: issue.closed === undefined ? undefined : goTime(issue.closed),
    close_reason: issue.closed === undefined ? undefined : "Done",
    labels: issue.labels,
    dependencies:
      issue.deps.length === 0
        ? undefined
        : issue.deps.map((d) => ({
            issue_id: issue.id,
            depends_on_id: d.on,
            type: d.type,
            created_at: goTime(issue.created),
            created_by: "daemon",
          })),
  };
  return JSON.stringify(json);
}

/** The Beads project: `.beads/issues.jsonl` (sorted by ID, as bd exports) and the config bd init writes. */
export function writeBeadsProject(root, issues) {
  rmSync(root, { recursive: true, force: true });
  return writeFiles(root, [
    [".beads/config.yaml", 'issue-prefix: "bd"\n'],
    [".beads/issues.jsonl", `${issues.map(beadsLine).join("\n")}\n`],
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Writers

/** Writes one Markdown layout of the feature corpus under root (replacing it); returns { files, bytes }. */
export function writeFeatureProject(root, corpus, layout) {
  rmSync(root, { recursive: true, force: true });
  if (layout === "speckit") return writeFiles(root, renderSpeckit(corpus));
  if (layout === "kiro") return writeFiles(root, renderKiro(corpus));
  if (layout !== "keel") throw new Error(`unknown layout: ${layout}`);
  const specs = writeCorpus(corpus, "keel", root);
  const tasks = writeFiles(
    root,
    corpus.caps.map((cap) => [`keel/specs/${cap.name}/tasks.md`, keelTasks(cap)]),
  );
  return { files: specs.files + tasks.files, bytes: specs.bytes + tasks.bytes };
}

/** Requirements per layout reader: Spec Kit stories + FR + SC, Kiro criteria, Keel requirements. Equal by design. */
export function requirementCount(corpus) {
  return corpus.caps.reduce((n, cap) => n + cap.requirements.length, 0);
}

// ---------------------------------------------------------------------------------------------------------
// CLI

const USAGE =
  "usage: node bench/gen-layouts.mjs --layout speckit|kiro|keel|beads|taskmaster --out DIR " +
  "[--features N] [--reqs M] [--issues N] [--seed S]";

function parseArgs(argv) {
  const opts = { features: 1000, reqs: 10, issues: 10_000, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--layout") opts.layout = value();
    else if (arg === "--out") opts.out = resolve(value());
    else if (arg === "--features") opts.features = Number(value());
    else if (arg === "--reqs") opts.reqs = Number(value());
    else if (arg === "--issues") opts.issues = Number(value());
    else if (arg === "--seed") opts.seed = value();
    else if (arg === "--help" || arg === "-h") opts.help = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  if (!Number.isInteger(opts.issues) || opts.issues < 2)
    throw new Error("--issues must be an integer of at least 2");
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) return console.log(USAGE);
  if (!opts.layout || !opts.out) throw new Error(USAGE);
  const t0 = performance.now();
  let what;
  let written;
  if (opts.layout === "beads") {
    const issues = buildBeadsGraph(opts.issues);
    written = writeBeadsProject(opts.out, issues);
    what = `${issues.length} issues, ${beadsReadyCount(issues)} ready`;
  } else if (opts.layout === "taskmaster") {
    writeTaskmasterTasks(opts.out, buildTaskGraph(opts.issues));
    what = `${opts.issues} tasks`;
  } else {
    const corpus = buildFeatureCorpus(opts);
    written = writeFeatureProject(opts.out, corpus, opts.layout);
    what = `${opts.features} features, ${requirementCount(corpus)} requirements`;
  }
  const size = written ? `, ${written.files} files, ${(written.bytes / 1048576).toFixed(1)} MiB` : "";
  console.log(`${opts.layout}: ${what}${size} in ${Math.round(performance.now() - t0)} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    console.error(`gen-layouts: ${err.message}`);
    process.exitCode = 2;
  }
}
