// What the task views share: the board's answer (GET /api/board), a task's URL, and the lease countdown, which
// ticks each second from one timer for the whole page against the server's clock.
import { useEffect, useMemo, useState } from "preact/hooks";
import { onLive, type Resource, useResource } from "../live";

export type Column = "ready" | "waiting" | "claimed" | "blocked" | "done" | "deferred";

export interface BoardTask {
  key: string;
  scope: string;
  id: string;
  title: string;
  status: string;
  column: Column;
  priority: number | null;
  dependsOn: string[];
  claim: { holder: string | null; leaseUntil: string | null; live: boolean } | null;
}

export interface BoardAnswer {
  version: 1;
  now: string;
  columns: Array<{ name: Column; count: number }>;
  tasks: BoardTask[];
}

export const COLUMN_TITLE: Record<Column, string> = {
  ready: "Ready",
  waiting: "Waiting",
  claimed: "Claimed",
  blocked: "Blocked",
  done: "Done",
  deferred: "Deferred",
};

/** Events that may move a card: claims and their ends, and edits of task files. */
export const TASK_EVENTS = ["task.*", "spec.edited"];

export function useBoard(): Resource<BoardAnswer> {
  return useResource<BoardAnswer>("/api/board", TASK_EVENTS);
}

/** A claim event as the stream sends it (the audit record: core/live/events.ts). */
interface ClaimEvent {
  at: string;
  target: string;
  after: string | null;
  data: { holder?: string; leaseUntil?: string } | null;
}

interface Moved {
  at: string;
  column: Column;
  /** The new claim; null when the event ended the claim (its holder stays on record, its lease no longer counts). */
  claim: BoardTask["claim"];
}

/** Where a claim event puts its card until the board is fetched again (a release makes it claimable again). */
function movedBy(e: ClaimEvent): Moved | null {
  if (e.after === "claimed" && e.data?.leaseUntil)
    return {
      at: e.at,
      column: "claimed",
      claim: { holder: e.data.holder ?? null, leaseUntil: e.data.leaseUntil, live: true },
    };
  if (e.after === "released") return { at: e.at, column: "ready", claim: null };
  if (e.after === "done" || e.after === "blocked") return { at: e.at, column: e.after, claim: null };
  return null;
}

/**
 * The board, with each claim event applied to its card the moment it arrives: the refetch it also causes brings
 * the whole truth (what a done task made ready, say) a little later. An event already counted in an answer
 * (at or before the answer's `now`) is dropped.
 */
export function useLiveBoard(): Resource<BoardAnswer> {
  const board = useBoard();
  const [moved, setMoved] = useState<Map<string, Moved>>(new Map());
  useEffect(
    () =>
      onLive((type, payload) => {
        if (!type.startsWith("task.")) return;
        const e = payload as ClaimEvent;
        const m = typeof e?.target === "string" ? movedBy(e) : null;
        if (m) setMoved((before) => new Map(before).set(e.target, m));
      }),
    [],
  );
  const data = useMemo(() => {
    const answer = board.data;
    if (!answer || moved.size === 0) return answer;
    const now = Date.parse(answer.now);
    const tasks = answer.tasks.map((t) => {
      const m = moved.get(t.key);
      if (!m || Date.parse(m.at) <= now) return t;
      return { ...t, column: m.column, claim: m.claim ?? (t.claim ? { ...t.claim, live: false } : null) };
    });
    return { ...answer, tasks };
  }, [board.data, moved]);
  return { ...board, data };
}

/** `/tasks/<scope>/<id>`: a key's slashes stay path separators, each segment encoded. */
export function taskHref(key: string): string {
  return `/tasks/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/** A task key as one path parameter of the REST API. */
export function taskApi(key: string, tail = ""): string {
  return `/api/tasks/${encodeURIComponent(key)}${tail}`;
}

const tickers = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | null = null;

/** The client's clock, updated each second while any countdown is on the page (one interval for all). */
function useSecond(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    tickers.add(setNow);
    timer ??= setInterval(() => {
      const t = Date.now();
      for (const l of tickers) l(t);
    }, 1000);
    return () => {
      tickers.delete(setNow);
      if (tickers.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    };
  }, []);
  return now;
}

/** Milliseconds the server's clock is ahead of this page's, from an answer's `now` just received. */
export function skewOf(serverNow: string): number {
  return Date.parse(serverNow) - Date.now();
}

function formatLeft(ms: number): string {
  // Whole seconds left, rounded down: the skew is measured from an answer already on its way (it errs by the
  // answer's latency towards more time left), so rounding up could show a 10-minute lease as 10:01.
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** The time left on a lease, ticking; "expired" once it passed. */
export function Countdown({ until, skew }: { until: string; skew: number }) {
  const now = useSecond();
  const left = Date.parse(until) - (now + skew);
  return (
    <span class={`countdown ${left <= 60_000 ? "countdown-low" : ""}`} title={`lease until ${until}`}>
      {left > 0 ? `lease ${formatLeft(left)}` : "lease expired"}
    </span>
  );
}
