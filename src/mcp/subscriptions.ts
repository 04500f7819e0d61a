// Resource subscriptions: a client subscribes to a resource URI and is sent notifications/resources/updated
// when what it reads from changes — the file it is read from (a spec, the file holding a requirement or a
// task, the constitution), edited by anyone, or, for a task, its claim state (an audit event task.* on it).
// The changes come from the live event feed, through the server's LiveLink (live.ts).
// @req SRF-9
import { isAbsolute, join, relative } from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { LiveEvent } from "../core/live/events.js";
import { loadProject } from "../core/project.js";
import { withQueryIndex } from "../core/query/index.js";
import { findTask } from "../core/tasks/index.js";
import { loadTaskGraph } from "../core/tasks/load.js";
import { findProjectRoot } from "../workspace/root.js";
import type { LiveLink } from "./live.js";
import type { McpContext } from "./tools.js";

type Target =
  | { kind: "constitution" }
  | { kind: "spec"; capability: string }
  | { kind: "requirement"; id: string }
  | { kind: "task"; ref: string };

/** What a subscribed URI depends on: files (absolute paths) and task keys whose audit events change it. */
interface Watched {
  target: Target;
  files: Set<string>;
  tasks: Set<string>;
  /** Not found when subscribed: any edit of a spec may make it appear, so each one re-resolves it. */
  unresolved: boolean;
}

const URI = /^keel:\/\/(constitution|spec|requirement|task)(?:\/(.+))?$/;

/** The resource a `keel://` URI names, or an invalid-params error an agent can act on. */
function parseResourceUri(uri: string): Target {
  const m = URI.exec(uri);
  const kind = m?.[1];
  let rest: string | null = null;
  try {
    rest = m?.[2] === undefined ? null : decodeURIComponent(m[2]);
  } catch {
    rest = null;
  }
  if (kind === "constitution" && m?.[2] === undefined) return { kind };
  if (rest !== null && rest !== "") {
    if (kind === "spec") return { kind, capability: rest };
    if (kind === "requirement") return { kind, id: rest };
    if (kind === "task") return { kind, ref: rest };
  }
  throw new McpError(
    ErrorCode.InvalidParams,
    `not a Keel resource URI: ${uri} (use keel://constitution, keel://spec/<capability>, keel://requirement/<id> or keel://task/<key>)`,
  );
}

export class ResourceSubscriptions {
  private readonly watched = new Map<string, Watched>();
  private readonly start: string;
  private readonly explicit: boolean;
  private closed = false;
  private readonly onLive = (root: string, e: LiveEvent) => void this.onEvent(root, e);

  constructor(
    private readonly server: McpServer,
    ctx: McpContext,
    private readonly live: LiveLink,
  ) {
    this.start = ctx.root ?? ctx.cwd;
    this.explicit = ctx.root !== null;
  }

  /** Declares resources.subscribe and answers resources/subscribe and resources/unsubscribe. Before connect. */
  install(): void {
    const s = this.server.server;
    s.registerCapabilities({ resources: { subscribe: true } });
    s.setRequestHandler(SubscribeRequestSchema, async (req) => {
      await this.add(req.params.uri);
      return {};
    });
    s.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
      this.watched.delete(req.params.uri);
      return {};
    });
  }

  private async add(uri: string): Promise<void> {
    const target = parseResourceUri(uri);
    if (this.closed) return;
    const w: Watched = { target, files: new Set(), tasks: new Set(), unresolved: false };
    await this.resolve(w);
    this.watched.set(uri, w);
    // Resolves once the feed's watchers are in place, so the subscriber misses no edit.
    await this.live.listen(this.onLive);
  }

  close(): void {
    this.closed = true;
    this.watched.clear();
  }

  private async onEvent(root: string, e: LiveEvent): Promise<void> {
    const file = e.type === "spec.edited" && typeof e.data.file === "string" ? join(root, e.data.file) : null;
    const action = typeof e.data.action === "string" ? e.data.action : "";
    const task = action.startsWith("task.") && typeof e.data.target === "string" ? e.data.target : null;
    if (file === null && task === null) return;
    const isSpec = file !== null && /[\\/]specs[\\/].+\.md$/.test(file);
    for (const [uri, w] of this.watched) {
      const hit =
        (file !== null && w.files.has(file)) ||
        (task !== null && w.tasks.has(task)) ||
        (isSpec && w.unresolved);
      if (!hit) continue;
      if (w.unresolved || file !== null) await this.resolve(w).catch(() => {});
      if (w.unresolved && !(file !== null && w.files.has(file))) continue;
      if (this.watched.get(uri) !== w || this.closed) continue;
      await this.server.server.sendResourceUpdated({ uri }).catch(() => {});
    }
  }

  /** Finds the files (and task) a subscription depends on now; what is not found yet stays unresolved. */
  private async resolve(w: Watched): Promise<void> {
    const t = w.target;
    const files = new Set<string>();
    const tasks = new Set<string>();
    let unresolved = false;
    const abs = (root: string, rel: string) => (isAbsolute(rel) ? rel : join(root, rel));
    try {
      if (t.kind === "constitution") {
        const loaded = loadProject(this.start, { explicitRoot: this.explicit });
        const root = loaded.project.root;
        if (loaded.constitution?.file) files.add(abs(root, loaded.constitution.file));
        for (const dir of ["keel", "openspec"]) files.add(join(root, dir, "constitution.md"));
      } else if (t.kind === "spec" || t.kind === "requirement") {
        const project = findProjectRoot(this.start, this.explicit);
        const id = t.kind === "spec" ? t.capability : t.id;
        const shown = await withQueryIndex(project, { check: "answer" }, (q) => q.show(id));
        if (shown?.kind === t.kind) files.add(abs(project.root, shown.item.file));
        else unresolved = true;
        if (t.kind === "spec" && !relative(project.root, join(project.root, t.capability)).startsWith(".."))
          for (const dir of ["keel", "openspec"])
            files.add(join(project.root, dir, "specs", t.capability, "spec.md"));
      } else {
        const root = findProjectRoot(this.start, this.explicit).root;
        const graph = loadTaskGraph(root);
        const found = findTask(graph, t.ref);
        if (found !== null && !("ambiguous" in found)) {
          tasks.add(found.key);
          const node = graph.nodes.get(found.key);
          if (node) files.add(abs(root, node.task.file));
        } else {
          tasks.add(t.ref);
          unresolved = true;
        }
      }
    } catch {
      unresolved = true; // no project or an unreadable index: try again on the next edit
    }
    w.files = files;
    w.tasks = tasks;
    w.unresolved = unresolved;
  }
}
