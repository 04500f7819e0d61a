// The MCP resources: the constitution, a spec, a requirement and a task, each by URI. A URI names an ID that
// is looked up in the project's model; it is never joined into a path, so `keel://spec/../../x` is simply an
// unknown capability. The files read are the ones discovery found inside the project. Their text is delivered
// as an agent may receive it (core/scan/deliver.ts): a Markdown resource opens with a note of what was done,
// a JSON one carries `sanitized`; both say it in the content's `_meta` under `keel/sanitized` too.
// @req SRF-3, TRU-2
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ErrorCode,
  type ListResourcesResult,
  McpError,
  type ReadResourceResult,
} from "@modelcontextprotocol/sdk/types.js";
import { loadProject } from "../core/project.js";
import { withQueryIndex } from "../core/query/index.js";
import { showWithProposals } from "../core/query/proposed.js";
import { type DeliveryLog, deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import { deliverDocument, deliverRequirement, deliverTask, sanitizedNote } from "../core/scan/records.js";
import type { SanitizeAction } from "../core/scan/types.js";
import { claimedKeys } from "../core/tasks/claim-ops.js";
import { findTask, loadTasks, taskView } from "../core/tasks/index.js";
import { loadTaskGraph } from "../core/tasks/load.js";
import { loadConfig } from "../workspace/config.js";
import { KeelError } from "../workspace/errors.js";
import { syncFreshness } from "../workspace/freshness.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import { completing } from "./complete.js";
import type { McpContext } from "./tools.js";

/** MCP's "resource not found" error code (the specification's -32002). */
const RESOURCE_NOT_FOUND = -32002;

function notFound(uri: string, hint: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, `resource not found: ${uri} (${hint})`, { uri });
}

/** A template variable, percent-decoded; a malformed escape is a bad request. */
function param(value: string | string[] | undefined, uri: string): string {
  const raw = Array.isArray(value) ? value.join(",") : (value ?? "");
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new McpError(ErrorCode.InvalidParams, `malformed percent-encoding in ${uri}`);
  }
}

/** A KeelError from the core (no project, unreadable index) as a protocol error with its code and hint. */
async function answering<T>(fn: () => Promise<T>): Promise<T> {
  try {
    await syncFreshness(); // a long-lived server counts every change made before the read (tree-watch.ts)
    return await fn();
  } catch (e) {
    if (e instanceof KeelError)
      throw new McpError(ErrorCode.InternalError, `error [${e.code}]: ${e.message} (hint: ${e.hint})`);
    throw e;
  }
}

/** A list callback's answer; a KeelError (no project, unreadable index) becomes a protocol error. */
function listing(fn: () => Promise<ListResourcesResult["resources"]>): Promise<ListResourcesResult> {
  return answering(async () => ({ resources: await fn() }));
}

/** A value for a `{+var}` template variable: percent-encoded, with `/` kept. */
function reserved(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, "/");
}

function logFor(project: ProjectRoot): DeliveryLog {
  return deliveryLog(securityPolicy(loadConfig(project)));
}

function meta(sanitized: SanitizeAction[]): { _meta?: Record<string, unknown> } {
  return sanitized.length > 0 ? { _meta: { "keel/sanitized": sanitized } } : {};
}

/** A JSON resource whose text fields went through `log`: `sanitized` added to the value. */
function json(uri: string, value: Record<string, unknown>, log: DeliveryLog): ReadResourceResult {
  const sanitized = log.actions();
  const text = JSON.stringify({ ...value, sanitized }, null, 2);
  return { contents: [{ uri, mimeType: "application/json", text, ...meta(sanitized) }] };
}

/** A Markdown resource delivered: a note of what was done opens it (a quote block, so it reads as Keel's). */
function markdown(uri: string, text: string, log: DeliveryLog): ReadResourceResult {
  const sanitized = log.actions();
  const note = sanitizedNote(sanitized);
  const quoted = note === null ? "" : `${note.replace(/^/gmu, "> ")}\n\n`;
  return { contents: [{ uri, mimeType: "text/markdown", text: quoted + text, ...meta(sanitized) }] };
}

export function registerResources(server: McpServer, ctx: McpContext): void {
  const start = ctx.root ?? ctx.cwd;
  const explicit = ctx.root !== null;

  server.registerResource(
    "constitution",
    "keel://constitution",
    { description: "The project's constitution: principles and their gates.", mimeType: "text/markdown" },
    (uri) =>
      answering(async () => {
        const loaded = loadProject(start, { explicitRoot: explicit });
        const file = loaded.constitution?.file;
        if (!file) throw notFound(uri.href, "this project has no constitution");
        const log = deliveryLog(securityPolicy(loaded.config));
        const text = log.block(readFileSync(join(loaded.project.root, file), "utf8"), `constitution ${file}`);
        return markdown(uri.href, text, log);
      }),
  );

  const specsOf = () =>
    withQueryIndex(findProjectRoot(start, explicit), { check: "answer" }, (q) => q.listSpecs({}));
  const requirementsOf = () =>
    withQueryIndex(findProjectRoot(start, explicit), { check: "answer" }, (q) => q.listRequirements({}));
  const tasksOf = () => loadTasks(findProjectRoot(start, explicit).root).tasks;

  server.registerResource(
    "spec",
    new ResourceTemplate("keel://spec/{capability}", {
      // @req SRF-9
      list: () =>
        listing(async () => {
          const specs = await specsOf();
          return specs.map((s) => ({
            uri: `keel://spec/${encodeURIComponent(s.capability)}`,
            name: s.capability,
            ...(s.title ? { title: s.title } : {}),
            mimeType: "text/markdown",
          }));
        }),
      complete: {
        capability: (value) => completing(value, async () => (await specsOf()).map((s) => s.capability)),
      },
    }),
    { description: "A capability's spec, as Markdown.", mimeType: "text/markdown" },
    (uri, vars) =>
      answering(async () => {
        const capability = param(vars.capability, uri.href);
        const project = findProjectRoot(start, explicit);
        const shown = await withQueryIndex(project, { check: "answer" }, (q) => q.show(capability));
        if (shown?.kind !== "spec") throw notFound(uri.href, `no capability named ${capability}`);
        const file = shown.item.file;
        const loaded = loadProject(project.root, { explicitRoot: true });
        const log = deliveryLog(securityPolicy(loaded.config));
        const raw = readFileSync(join(project.root, file), "utf8");
        // Each requirement with its own provenance (where its span is its text in this file, as read); the
        // rest of the file as the spec's.
        const parts = (loaded.specs.find((s) => s.file === file)?.requirements ?? [])
          .filter((r) => raw.slice(r.span.start.offset, r.span.end.offset) === r.raw)
          .map((r) => ({
            start: r.span.start.offset,
            end: r.span.end.offset,
            target: `requirement ${r.id}`,
            provenance: r.markers?.provenance ?? {},
            status: r.markers?.status ?? null,
          }));
        return markdown(uri.href, deliverDocument(raw, parts, `spec ${capability}`, log), log);
      }),
  );

  server.registerResource(
    "requirement",
    new ResourceTemplate("keel://requirement/{+id}", {
      list: () =>
        listing(async () => {
          const reqs = await requirementsOf();
          return reqs.map((r) => ({
            uri: `keel://requirement/${reserved(r.id)}`,
            name: r.id,
            title: r.title,
            mimeType: "application/json",
          }));
        }),
      complete: { id: (value) => completing(value, async () => (await requirementsOf()).map((r) => r.id)) },
    }),
    {
      description: "One requirement by ID, as JSON (text, scenarios, provenance, fingerprint).",
      mimeType: "application/json",
    },
    (uri, vars) =>
      answering(async () => {
        const id = param(vars.id, uri.href);
        const project = findProjectRoot(start, explicit);
        const shown = await withQueryIndex(project, { check: "answer" }, (q) => showWithProposals(q, id));
        if (shown?.kind !== "requirement") throw notFound(uri.href, `no requirement has the ID ${id}`);
        const log = logFor(project);
        return json(uri.href, { ...deliverRequirement(shown.item, log) }, log);
      }),
  );

  server.registerResource(
    "task",
    new ResourceTemplate("keel://task/{+key}", {
      list: () =>
        listing(async () =>
          tasksOf().map((t) => ({
            uri: `keel://task/${reserved(t.key)}`,
            name: t.key,
            title: t.title,
            mimeType: "application/json",
          })),
        ),
      complete: { key: (value) => completing(value, async () => tasksOf().map((t) => t.key)) },
    }),
    {
      description: "One task by key (scope/id), as JSON, with readiness and claim state.",
      mimeType: "application/json",
    },
    (uri, vars) =>
      answering(async () => {
        const ref = param(vars.key, uri.href);
        const project = findProjectRoot(start, explicit);
        const root = project.root;
        const graph = loadTaskGraph(root);
        const found = findTask(graph, ref);
        if (found === null || "ambiguous" in found)
          throw notFound(
            uri.href,
            found === null ? `no task ${ref}` : `ambiguous: ${found.ambiguous.join(", ")}`,
          );
        const log = logFor(project);
        return json(
          uri.href,
          deliverTask(taskView(graph, found.key, claimedKeys(root, new Date())), log),
          log,
        );
      }),
  );
}
