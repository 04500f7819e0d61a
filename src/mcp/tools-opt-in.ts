// The opt-in MCP tools: everything beyond the core set, in groups a client enables with `keel mcp --tools` (or
// `keel serve --mcp-tools`). Each answers exactly what the matching `keel … --json` prints and REST serves — the
// same core/api function builds it, and the same schema (core/api/answers.ts) describes it — so the core set
// stays small in every agent's context while nothing the CLI can tell is out of an agent's reach.
// @req SRF-18
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import * as A from "../core/api/answers.js";
import { changeListAnswer, changeShowAnswer } from "../core/api/changes.js";
import { listAnswer } from "../core/api/queries.js";
import { statusAnswer } from "../core/api/status.js";
import { taskShowAnswer } from "../core/api/task-queries.js";
import { type TaskWrite, writeTask } from "../core/api/tasks.js";
import { coverageAnswer, driftAnswer } from "../core/api/trace-queries.js";
import { approveChange } from "../core/approve.js";
import { requireChange } from "../core/changes/load.js";
import type { DeliveryLog } from "../core/scan/deliver.js";
import { deliverChangeAnswer, deliverTask } from "../core/scan/records.js";
import type { SanitizeAction } from "../core/scan/types.js";
import { taskLookupError } from "../core/tasks/lookup.js";
import { loadConfig } from "../workspace/config.js";
import { findProjectRoot } from "../workspace/root.js";
import type { ToolGroup } from "./tool-groups.js";
import { as, deliveryFor, guarded, HINTS, type McpContext, taskRef, token, writingIntent } from "./tools.js";
import type { ActorOf } from "./tools-changes.js";

const changeId = z.string().min(1).max(200).describe("change ID");

/** The answer with `sanitized` when delivery of its text (core/scan/deliver.ts) did anything. */
function saying<T extends object>(a: T, log: DeliveryLog): T & { sanitized?: SanitizeAction[] } {
  const sanitized = log.actions();
  return sanitized.length > 0 ? { ...a, sanitized } : a;
}

/** The answer as structured content, and as compact JSON for clients that read only text. */
function answer(structured: object): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(structured) }],
    structuredContent: structured as Record<string, unknown>,
  };
}

export function registerOptInTools(
  server: McpServer,
  ctx: McpContext,
  actorOf: ActorOf,
  groups: readonly ToolGroup[],
): void {
  const start = ctx.root ?? ctx.cwd;
  const explicit = ctx.root !== null;
  const project = () => findProjectRoot(start, explicit);
  const taskWrite = async (w: TaskWrite) => {
    const p = project();
    const { who } = actorOf(p, undefined);
    return answer((await writeTask(p.root, loadConfig(p), who, w, HINTS)).answer);
  };

  if (groups.includes("tasks")) {
    server.registerTool(
      "keel_show_task",
      {
        description:
          "One task as `keel tasks show` gives it: status, claim, dependencies, why it is not ready.",
        inputSchema: { task: taskRef },
        outputSchema: A.TaskAnswer,
      },
      guarded(async ({ task }) => {
        const p = project();
        const shown = taskShowAnswer(p.root, task);
        if ("lookup" in shown) throw taskLookupError(task, shown.lookup, HINTS.list);
        const log = deliveryFor(p);
        return answer(saying({ ...shown, task: deliverTask(shown.task, log) }, log));
      }),
    );
    server.registerTool(
      "keel_release_task",
      {
        description: "Give back a task you hold, so another agent can claim it.",
        inputSchema: { task: taskRef, token },
        outputSchema: A.TaskWriteAnswer,
      },
      guarded(({ task, token }) => taskWrite({ op: "release", task, token })),
    );
    server.registerTool(
      "keel_block_task",
      {
        description: "Mark a task you hold blocked, with the reason; it leaves the ready queue.",
        inputSchema: { task: taskRef, token, reason: z.string().trim().min(1).max(4000) },
        outputSchema: A.TaskWriteAnswer,
      },
      guarded(({ task, token, reason }) =>
        writingIntent(ctx, `keel_block_task ${task}`, () => taskWrite({ op: "block", task, token, reason })),
      ),
    );
  }

  if (groups.includes("changes")) {
    server.registerTool(
      "keel_list_changes",
      {
        description: "Open changes (with all: true, archived ones too), as `keel change list` lists them.",
        inputSchema: { all: z.boolean().optional() },
        outputSchema: A.ChangesAnswer,
      },
      guarded(async ({ all }) => answer(changeListAnswer(project(), all === true))),
    );
    server.registerTool(
      "keel_show_change",
      {
        description:
          "A change's deltas, recorded bases, overlaps, problems and conflicts (`keel change show`).",
        inputSchema: { id: changeId },
        outputSchema: A.ChangeAnswer,
      },
      guarded(async ({ id }) => {
        const p = project();
        const log = deliveryFor(p);
        return answer(
          saying(deliverChangeAnswer(changeShowAnswer(p, requireChange(p, id)).answer, log), log),
        );
      }),
    );
    server.registerTool(
      "keel_approve_change",
      {
        description:
          "Approve a change as the caller; roles and keel.yaml's policy decide (agents mostly may not).",
        inputSchema: { id: changeId, reason: z.string().max(4000).optional(), as },
        outputSchema: A.ApproveAnswer,
      },
      guarded(async ({ id, reason, as: flag }) => {
        const p = project();
        const { who } = actorOf(p, flag);
        const approved = await writingIntent(ctx, `keel_approve_change ${id}`, async () =>
          approveChange(p, loadConfig(p), who, id, reason ?? null),
        );
        return answer({ version: 1, ok: true, ...approved });
      }),
    );
  }

  if (groups.includes("trace")) {
    server.registerTool(
      "keel_drift",
      {
        description: "Where intent and code have come apart (suspect, dangling, untested, stale), ranked.",
        inputSchema: { failOn: z.enum(["error", "warning"]).optional().describe("default error") },
        outputSchema: A.DriftAnswer,
      },
      guarded(async ({ failOn }) => answer((await driftAnswer(start, explicit, failOn ?? "error")).answer)),
    );
    server.registerTool(
      "keel_coverage",
      {
        description: "Per capability: approved requirements implemented, tested and verified.",
        inputSchema: {},
        outputSchema: A.CoverageAnswer,
      },
      guarded(async () => answer(await coverageAnswer(start, explicit))),
    );
  }

  if (groups.includes("specs")) {
    server.registerTool(
      "keel_status",
      {
        description: "One-screen summary: specs, requirements by status and origin, open changes, findings.",
        inputSchema: {},
        outputSchema: A.StatusAnswer,
      },
      guarded(async () => answer(await statusAnswer(project()))),
    );
    server.registerTool(
      "keel_list_requirements",
      {
        description:
          "The living requirements, optionally of one capability or status (`keel list requirements`).",
        inputSchema: {
          capability: z.string().min(1).max(200).optional(),
          status: z.string().min(1).max(40).optional(),
        },
        outputSchema: A.RequirementsAnswer,
      },
      guarded(async (filter) => answer(await listAnswer(project(), { kinds: ["requirements"], ...filter }))),
    );
  }
}
