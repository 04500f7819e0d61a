// The MCP prompts: one per spec-driven phase (specify, clarify, plan, tasks, implement, review). The text is
// the one `keel agents add` writes as each agent's slash command (core/agents/templates.ts), so a prompt and
// a slash command never disagree; the prompt's arguments fill the place the slash command leaves for the
// user's words.
// @req SRF-8
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GetPromptResult } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { type Phase, phaseText } from "../core/agents/templates.js";
import { changeFolders } from "../core/changes/load.js";
import { loadTasks } from "../core/tasks/index.js";
import { findProjectRoot } from "../workspace/root.js";
import { completing } from "./complete.js";
import type { McpContext } from "./tools.js";

function prompt(phase: Phase, args: string): GetPromptResult {
  const { description, text } = phaseText(phase, args);
  return { description, messages: [{ role: "user", content: { type: "text", text } }] };
}

export function registerPrompts(server: McpServer, ctx: McpContext): void {
  const start = ctx.root ?? ctx.cwd;
  const explicit = ctx.root !== null;
  // Open changes and task keys complete from what was typed; a project Keel cannot read completes to nothing.
  const changeIds = (typed: string | undefined) =>
    completing(typed ?? "", async () => changeFolders(findProjectRoot(start, explicit)).map((c) => c.id));
  const taskKeys = (typed: string | undefined) =>
    completing(typed ?? "", async () =>
      loadTasks(findProjectRoot(start, explicit).root).tasks.map((t) => t.key),
    );
  const change = completable(z.string().min(1).max(120).describe("change id, e.g. add-refunds"), changeIds);

  server.registerPrompt(
    "specify",
    {
      title: "Keel: specify",
      description: phaseText("specify", "").description,
      argsSchema: { request: z.string().min(1).max(4000).describe("the behaviour wanted, in your words") },
    },
    ({ request }) => prompt("specify", request),
  );
  for (const phase of ["clarify", "plan", "tasks"] as const) {
    server.registerPrompt(
      phase,
      { title: `Keel: ${phase}`, description: phaseText(phase, "").description, argsSchema: { change } },
      (args) => prompt(phase, args.change),
    );
  }
  server.registerPrompt(
    "implement",
    {
      title: "Keel: implement",
      description: phaseText("implement", "").description,
      argsSchema: {
        task: completable(
          z.string().min(1).max(200).optional().describe("task key (scope/id); default: the next ready one"),
          taskKeys,
        ),
      },
    },
    ({ task }) => prompt("implement", task === undefined ? "" : `Task: ${task} (claim it by name).`),
  );
  server.registerPrompt(
    "review",
    {
      title: "Keel: review",
      description: phaseText("review", "").description,
      argsSchema: {
        change: completable(
          z
            .string()
            .min(1)
            .max(120)
            .optional()
            .describe("the change to review; default: all work in progress"),
          changeIds,
        ),
      },
    },
    ({ change: id }) => prompt("review", id === undefined ? "" : `Change: ${id}.`),
  );
}
