// What the task views share: the board's answer (GET /api/board), a task's URL, and the lease countdown, which
// ticks each second from one timer for the whole page against the server's clock.
import { useEffect, useState } from "preact/hooks";
import { type Resource, useResource } from "../live";

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
  const s = Math.ceil(ms / 1000);
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
