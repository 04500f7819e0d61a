// The MCP tools that write intent: propose a change (with its proposal and delta specs, checked before
// anything is written), and the finding half of keel_note. Both act as the connection's actor and go through
// the core, which enforces roles and writes the audit log.
// @req SRF-7
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { proposeChange } from "../core/changes/propose.js";
import { proposeInput, proposeOptions } from "../core/changes/propose-input.js";
import { FINDING_SEVERITIES, type FindingSeverity, recordFinding } from "../core/findings.js";
import { StateDb } from "../store/state-db.js";
import type { Actor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { usageError } from "../workspace/errors.js";
import type { ProjectRoot } from "../workspace/root.js";
import { as, guarded, type McpContext, ok, projectOf, requireRequirement, writingIntent } from "./tools.js";

/** Who acts for a call: the connection's principal, or the server's actor (or `as`, when unauthenticated). */
export type ActorOf = (root: ProjectRoot, flag: string | undefined) => { who: Actor; label: string };

export function registerChangeTools(server: McpServer, ctx: McpContext, actorOf: ActorOf): void {
  server.registerTool(
    "keel_propose_change",
    {
      description:
        "Propose a change: scaffold it, or write the given proposal and delta specs once they validate.",
      inputSchema: {
        ...proposeInput,
        as,
      },
      outputSchema: {
        change: z.string(),
        layout: z.string(),
        dir: z.string(),
        files: z.array(z.string()),
        base: z.record(z.string(), z.array(z.string())),
        warnings: z.array(
          z.object({ file: z.string(), line: z.number(), rule: z.string(), message: z.string() }),
        ),
      },
    },
    guarded(async (args) => {
      const project = projectOf(ctx);
      const { who } = actorOf(project, args.as);
      const r = await writingIntent(ctx, `keel_propose_change ${args.name}`, async () =>
        proposeChange(project, loadConfig(project), who, proposeOptions(args)),
      );
      const warnings = r.warnings.map((f) => ({
        file: f.file,
        line: f.line,
        rule: f.rule,
        message: f.message,
      }));
      const text = [
        `proposed ${r.change} in ${r.dir}`,
        ...r.files.map((f) => `  ${f}`),
        ...warnings.map((w) => `warning ${w.file}:${w.line}: ${w.message}`),
      ].join("\n");
      return ok(text, {
        change: r.change,
        layout: r.layout,
        dir: r.dir,
        files: r.files,
        base: r.base,
        warnings,
      });
    }),
  );
}

/** keel_note's extra inputs for recording a finding. */
export const findingInputs = {
  kind: z.enum(["note", "finding"]).optional().describe("note (default) or finding"),
  severity: z.enum(FINDING_SEVERITIES).optional().describe("a finding's severity"),
  requirement: z.string().min(1).max(200).optional().describe("requirement ID a finding is about"),
};

/** keel_note's extra outputs when it recorded a finding. */
export const findingOutputs = {
  kind: z.enum(["note", "finding"]).optional(),
  severity: z.enum(FINDING_SEVERITIES).optional(),
  requirement: z.string().nullable().optional(),
  at: z.string().optional(),
};

/** Records a finding on the task `key` (already resolved in the tasks root) as the connection's actor. */
export async function noteFinding(
  ctx: McpContext,
  tasksRoot: ProjectRoot,
  who: Actor,
  key: string,
  args: { text: string; severity?: FindingSeverity | undefined; requirement?: string | undefined },
): Promise<CallToolResult> {
  if (args.severity === undefined)
    throw usageError("a finding needs a severity", `pass severity: one of ${FINDING_SEVERITIES.join(", ")}`);
  const requirement = args.requirement;
  if (requirement !== undefined)
    await requireRequirement(
      projectOf(ctx),
      requirement,
      "find requirements with keel_search, or leave out requirement",
    );
  const state = StateDb.open(tasksRoot.root);
  try {
    const f = recordFinding(
      state,
      tasksRoot.root,
      who,
      { task: key, severity: args.severity, requirement: requirement ?? null, text: args.text },
      new Date(),
    );
    return ok(`${f.severity} finding on ${key}${f.requirement ? ` about ${f.requirement}` : ""}`, {
      task: key,
      author: f.author,
      text: f.text,
      kind: "finding" as const,
      severity: f.severity,
      requirement: f.requirement,
      at: f.at,
    });
  } finally {
    state.close();
  }
}
