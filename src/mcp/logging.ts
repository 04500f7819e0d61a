// MCP logging: a client that sets a level with logging/setLevel is sent the project's live events at or above
// it as notifications/message (logger "keel"): who claimed, released or finished a task, which change was
// proposed, applied or conflicted, which spec was edited, and, at warning, a lease that expired, a change in
// conflict and a link gone suspect. It is opt-in: a client that never sets a level is sent nothing, so an
// agent's context is not filled with events it did not ask for.
// @req SRF-17
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type LoggingLevel, SetLevelRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { LiveEvent } from "../core/live/events.js";
import type { LiveLink } from "./live.js";

/** RFC 5424 severities, least severe first, as MCP orders them. */
const LEVELS: readonly LoggingLevel[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** Events that need someone's attention; `drift.checked` (a heartbeat of the drift watch) is only debug. */
const WARNINGS = new Set(["task.expired", "change.conflicted", "drift.found"]);

function eventLevel(type: string): LoggingLevel {
  if (WARNINGS.has(type)) return "warning";
  return type === "drift.checked" ? "debug" : "info";
}

/** One line a person can read in a client's log view; the event itself is sent beside it. */
function describeEvent(e: LiveEvent): string {
  const d = e.data;
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  if (e.type === "spec.edited") return `${str(d.file)} edited`;
  const link = `${str(d.requirement)} → ${str(d.file)}:${String(d.line ?? "")}`;
  if (e.type === "drift.found") return `suspect link ${link}: the requirement changed since it was linked`;
  if (e.type === "drift.resolved") return `link ${link} is no longer suspect`;
  if (e.type === "drift.checked") return `drift checked: ${String(d.suspect ?? 0)} suspect links`;
  const who = str(d.actor);
  const extra = (d.data ?? {}) as Record<string, unknown>;
  if (e.type === "task.expired")
    return `${str(d.target)}: the lease of ${str(extra.expiredHolder)} expired; ${who} claimed it`;
  const reason = str(d.reason);
  return `${e.type} ${str(d.target)}${who ? ` by ${who}` : ""}${reason ? `: ${reason}` : ""}`;
}

export class LiveLog {
  private level: LoggingLevel | null = null;
  private readonly onLive = (_root: string, e: LiveEvent) => this.forward(e);

  constructor(
    private readonly server: McpServer,
    private readonly live: LiveLink,
  ) {}

  /** Declares the logging capability and answers logging/setLevel. Before connect. */
  install(): void {
    const s = this.server.server;
    s.registerCapabilities({ logging: {} });
    s.setRequestHandler(SetLevelRequestSchema, async (req) => {
      this.level = req.params.level;
      await this.live.listen(this.onLive);
      return {};
    });
  }

  private forward(e: LiveEvent): void {
    if (this.level === null) return;
    const level = eventLevel(e.type);
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
    const data = {
      message: describeEvent(e),
      type: e.type,
      ...(e.id === undefined ? {} : { id: e.id }),
      data: e.data,
    };
    this.server.server.sendLoggingMessage({ level, logger: "keel", data }).catch(() => {});
  }
}
