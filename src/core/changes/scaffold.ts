// `keel change new`: scaffolds a change folder — proposal, tasks, metadata and one delta spec per capability
// (OpenSpec's ADDED / MODIFIED / REMOVED / RENAMED sections). Requirements named with --modify or --remove are
// copied into the delta and their base recorded now, from the living spec, under the write lock.
// @req CHG-1, CHG-2
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { slug } from "../../model/ids.js";
import type { NativeLayout, Requirement } from "../../model/types.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import type { KeelConfig } from "../../workspace/config.js";
import { KeelError, usageError } from "../../workspace/errors.js";
import { noteLocalWrite } from "../../workspace/freshness.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { enforce } from "../policy.js";
import { LivingSpecs } from "./living.js";
import { changesDir, checkChangeId, ownId, shownId } from "./load.js";
import {
  type BaseMap,
  baseEntry,
  type ChangeMeta,
  META_FILE,
  OPENSPEC_META_FILE,
  renderMeta,
} from "./meta.js";

export interface NewChangeOptions {
  name: string;
  why?: string | null;
  capabilities?: string[];
  modify?: string[];
  remove?: string[];
  now?: Date;
  /**
   * Written instead of the scaffolded text (the caller has validated it): the proposal, and delta specs by
   * capability. A delta's capability is added to the change's capabilities.
   */
  content?: { proposal?: string; deltas?: Record<string, string> };
  /**
   * Runs under the change's write lock once the change is known to be new, just before its files are written:
   * what it records commits with the change, and a throw leaves nothing written (a webhook's delivery ID, say).
   */
  alongside?: (state: StateDb, change: string) => void;
}

export interface NewChangeResult {
  change: string;
  layout: NativeLayout;
  dir: string;
  files: string[];
  /** Requirements whose base was recorded, by capability. */
  base: Record<string, string[]>;
}

const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function checkCapability(cap: string): void {
  if (!CAPABILITY.test(cap) || cap.split("/").some((s) => s === ".." || s === ".")) {
    throw usageError(
      `"${cap}" is not a capability name`,
      "a capability is the folder name under specs/: letters, digits, '-', '_' and '.', nested with '/'",
    );
  }
}

export function newChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  options: NewChangeOptions,
): NewChangeResult {
  const id = slug(options.name);
  if (id === "") {
    throw usageError(
      `"${options.name}" gives an empty change ID`,
      "name the change with words, e.g. add-refunds",
    );
  }
  checkChangeId(id);
  const layout: NativeLayout = project.native[0] ?? "keel";
  const dir = `${changesDir(project, layout)}/${id}`;
  const why = options.why?.trim() || null;
  if (why !== null && /[\r\n]/.test(why) && why.split(/\r?\n/).some((l) => /^#{1,6}\s/.test(l))) {
    throw usageError("--why may not contain Markdown headings", "write the rationale as plain paragraphs");
  }
  const caps = new Set<string>();
  for (const cap of [...(options.capabilities ?? []), ...Object.keys(options.content?.deltas ?? {})]) {
    checkCapability(cap);
    caps.add(cap);
  }
  const living = new LivingSpecs(project);
  const targets: Array<{ op: "MODIFIED" | "REMOVED"; capability: string; id: string }> = [];
  const seen = new Set<string>();
  for (const [op, ids] of [
    ["MODIFIED", options.modify ?? []],
    ["REMOVED", options.remove ?? []],
  ] as const) {
    for (const given of ids) {
      const reqId = ownId(project, given);
      const found = living.findRequirement(layout, reqId);
      if (!found) {
        throw usageError(
          `--${op === "MODIFIED" ? "modify" : "remove"} ${reqId}: no living requirement has that ID`,
          "use an ID from `keel list requirements` (explicit like PAY-4, or derived like payments/refunds)",
        );
      }
      if (seen.has(reqId))
        throw usageError(`requirement ${reqId} is named twice`, "name each requirement once");
      seen.add(reqId);
      targets.push({ op, capability: found.capability, id: reqId });
      caps.add(found.capability);
    }
  }
  const capabilities = [...caps].sort();

  const state = StateDb.open(project.root);
  try {
    enforce(
      state,
      project.root,
      actor,
      "propose",
      { capabilities, policy: config.policy },
      {
        action: "change.new",
        target: id,
      },
    );
    const result = state.exclusive((): NewChangeResult | KeelError => {
      if (existsSync(join(project.root, dir))) {
        return usageError(
          `change "${id}" already exists (${dir})`,
          "choose another name, or edit the existing change",
        );
      }
      const now = options.now ?? new Date();
      // Re-read the living specs under the lock: the base is what the specs hold as the change is created.
      const fresh = new LivingSpecs(project);
      const base: BaseMap = {};
      const copied = new Map<string, Array<{ op: "MODIFIED" | "REMOVED"; req: Requirement }>>();
      for (const t of targets) {
        const req = fresh.get(layout, t.capability).spec?.requirements.find((r) => r.id === t.id);
        if (!req) {
          return usageError(`requirement ${t.id} vanished from ${t.capability}`, "run the command again");
        }
        base[t.capability] ??= {};
        (base[t.capability] as BaseMap[string])[req.id] = baseEntry(req.fingerprint, req.raw);
        const list = copied.get(t.capability) ?? [];
        list.push({ op: t.op, req });
        copied.set(t.capability, list);
      }
      const meta: ChangeMeta = {
        id,
        status: "draft",
        author: actorLabel(actor),
        ...(actor.tool ? { tool: actor.tool } : {}),
        ...(actor.model ? { model: actor.model } : {}),
        created: now.toISOString(),
        ...(why !== null ? { why: why.split(/\r?\n/)[0] } : {}),
        ...(Object.keys(base).length > 0 ? { base } : {}),
      };
      const files: Array<[string, string]> = [
        [`${dir}/proposal.md`, options.content?.proposal ?? proposalText(why, targets, capabilities)],
        [`${dir}/tasks.md`, tasksText(capabilities)],
        [`${dir}/${META_FILE}`, renderMeta(meta)],
      ];
      if (layout === "openspec") {
        files.push([
          `${dir}/${OPENSPEC_META_FILE}`,
          `schema: spec-driven\ncreated: ${now.toISOString().slice(0, 10)}\n`,
        ]);
      }
      for (const cap of capabilities)
        files.push([
          `${dir}/specs/${cap}/spec.md`,
          options.content?.deltas?.[cap] ?? deltaText(copied.get(cap) ?? []),
        ]);
      options.alongside?.(state, id);
      try {
        for (const [rel, text] of files) writeFileAtomic(join(project.root, rel), text);
      } catch (e) {
        // All or nothing: the folder did not exist before (checked under this lock), so none of it stays.
        noteLocalWrite(join(project.root, dir));
        rmSync(join(project.root, dir), { recursive: true, force: true });
        throw e;
      }
      const recorded = Object.fromEntries(Object.entries(base).map(([c, reqs]) => [c, Object.keys(reqs)]));
      appendEvent(state, project.root, {
        actor: actorLabel(actor),
        actorKind: actor.kind,
        action: "change.new",
        target: shownId(project, id),
        reason: why,
        data: {
          dir,
          layout,
          capabilities,
          base: recorded,
          ...(actor.tool ? { tool: actor.tool } : {}),
          ...(actor.model ? { model: actor.model } : {}),
        },
      });
      return { change: shownId(project, id), layout, dir, files: files.map(([rel]) => rel), base: recorded };
    });
    if (result instanceof KeelError) throw result;
    return result;
  } finally {
    state.close();
  }
}

function proposalText(
  why: string | null,
  targets: Array<{ op: string; capability: string; id: string }>,
  capabilities: string[],
): string {
  const changes = targets.map(
    (t) => `- ${t.op === "MODIFIED" ? "Modify" : "Remove"} requirement ${t.id} (${t.capability})`,
  );
  return `## Why
${why ?? "<!-- The problem or opportunity, and why now. -->"}

## What Changes
${changes.length > 0 ? changes.join("\n") : "<!-- One bullet per change in behaviour; mark breaking changes **BREAKING**. -->"}

## Impact
- Affected specs: ${capabilities.length > 0 ? capabilities.join(", ") : "none yet"}
`;
}

function tasksText(capabilities: string[]): string {
  const where = capabilities.length > 0 ? capabilities.map((c) => `specs/${c}/spec.md`).join(", ") : "specs/";
  return `## 1. Intent
- [ ] 1.1 Write the delta requirements in ${where}
- [ ] 1.2 Check them with \`keel validate\` and \`keel change diff\`

## 2. Implementation
- [ ] 2.1 Implement the change and the tests that exercise its scenarios
`;
}

function deltaText(copied: Array<{ op: "MODIFIED" | "REMOVED"; req: Requirement }>): string {
  const modified = copied.filter((c) => c.op === "MODIFIED").map((c) => c.req.raw.replace(/\s+$/, ""));
  const removed = copied
    .filter((c) => c.op === "REMOVED")
    .map(
      (c) =>
        `### Requirement: ${c.req.title}${c.req.explicitId ? ` {#${c.req.id}}` : ""}\n<!-- Why it goes, and what replaces it. -->`,
    );
  const section = (title: string, hint: string, blocks: string[]) =>
    `## ${title} Requirements\n<!-- ${hint} -->\n${blocks.length > 0 ? `\n${blocks.join("\n\n")}\n` : ""}`;
  return [
    section(
      "ADDED",
      "New requirements: a Requirement heading (with an explicit {#ID}), normative text with SHALL or MUST, and at least one Scenario with WHEN and THEN steps.",
      [],
    ),
    section(
      "MODIFIED",
      "The complete new block of each changed requirement: heading, text and every scenario.",
      modified,
    ),
    section("REMOVED", "The Requirement heading of each requirement to remove, with the reason.", removed),
    section(
      "RENAMED",
      "Pairs of lines: - FROM: and - TO:, each followed by a Requirement heading in backticks.",
      [],
    ),
  ].join("\n");
}
