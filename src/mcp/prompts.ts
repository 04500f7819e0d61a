// The MCP prompts: one per spec-driven phase (constitution, specify, clarify, plan, tasks, analyze, checklist,
// implement, review). The text is the one `keel agents add` writes as each agent's slash command
// (core/agents/phases/), so a prompt and a slash command never disagree: the prompt's arguments, as given, fill
// the place the slash command leaves for the user's words, and each phase says what to do when that is empty.
// @req SRF-8
// @req AGT-18, AGT-19
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GetPromptResult } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { type Phase, phaseText } from "../core/agents/phases/index.js";
import { changeFolders } from "../core/changes/load.js";
import { loadTasks } from "../core/tasks/index.js";
import { findProjectRoot } from "../workspace/root.js";
import { completing } from "./complete.js";
import type { McpContext } from "./tools.js";

function prompt(phase: Phase, ...words: Array<string | undefined>): GetPromptResult {
  const { description, text } = phaseText(phase, words.filter((w) => w !== undefined).join(" "));
  return { description, messages: [{ role: "user", content: { type: "text", text } }] };
}

/** A phase's title and description, as `prompts/list` shows them. */
function about(phase: Phase): { title: string; description: string } {
  return { title: `Keel: ${phase}`, description: phaseText(phase, "").description };
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
  const changeId = z.string().min(1).max(120);
  const change = completable(changeId.describe("change id, e.g. add-refunds"), changeIds);
  const someChange = (what: string) => completable(changeId.optional().describe(what), changeIds);
  const words = z.string().min(1).max(4000);

  server.registerPrompt(
    "constitution",
    {
      ...about("constitution"),
      argsSchema: {
        request: words.optional().describe("the principles to add, amend or retire; default: ask"),
      },
    },
    ({ request }) => prompt("constitution", request),
  );
  server.registerPrompt(
    "specify",
    { ...about("specify"), argsSchema: { request: words.describe("the behaviour wanted, in your words") } },
    ({ request }) => prompt("specify", request),
  );
  for (const phase of ["clarify", "plan", "tasks"] as const) {
    server.registerPrompt(phase, { ...about(phase), argsSchema: { change } }, (args) =>
      prompt(phase, args.change),
    );
  }
  server.registerPrompt(
    "analyze",
    {
      ...about("analyze"),
      argsSchema: { change: someChange("the change to focus on; default: the whole project") },
    },
    (args) => prompt("analyze", args.change),
  );
  server.registerPrompt(
    "checklist",
    {
      ...about("checklist"),
      argsSchema: {
        change,
        focus: z.string().min(1).max(200).optional().describe("what to check most, e.g. security, errors"),
      },
    },
    (args) => prompt("checklist", args.change, args.focus),
  );
  server.registerPrompt(
    "implement",
    {
      ...about("implement"),
      argsSchema: {
        task: completable(
          z.string().min(1).max(200).optional().describe("task key (scope/id); default: the next ready one"),
          taskKeys,
        ),
      },
    },
    ({ task }) => prompt("implement", task),
  );
  server.registerPrompt(
    "review",
    {
      ...about("review"),
      argsSchema: { change: someChange("the change to review; default: all work in progress") },
    },
    (args) => prompt("review", args.change),
  );
}
