// Live updates: one EventSource on /events for the whole page. A view asks for a resource and the event types
// that may change it; when one arrives the resource is fetched again (events close together are fetched once),
// so what an editor saved or an agent claimed shows without a reload.
import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "./api";

type Listener = (type: string, data: unknown) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let connected = false;
const statusListeners = new Set<(up: boolean) => void>();

/** The event types the server sends (core/live/events.ts); `*` in a subscription means any of them. */
const TYPES = [
  "spec.edited",
  "audit",
  "task.claimed",
  "task.released",
  "task.done",
  "task.blocked",
  "task.expired",
  "change.proposed",
  "change.applied",
  "change.conflicted",
  "drift.found",
  "drift.resolved",
  "drift.checked",
  ...["start", "attempt", "boundary", "conflict", "end", "nudge", "plan", "plan.failed", "resume"].map(
    (s) => `run.${s}`,
  ),
  ...["review.approve", "review.reject", "task.blocked", "task.landed", "task.review"].map((s) => `run.${s}`),
];

function connect(): void {
  if (source) return;
  source = new EventSource("/events");
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
  const deliver = (type: string) => (e: MessageEvent) => {
    let data: unknown = null;
    try {
      data = JSON.parse(e.data);
    } catch {
      data = e.data;
    }
    for (const l of listeners) l(type, data);
  };
  for (const t of TYPES) source.addEventListener(t, deliver(t) as EventListener);
}

function setConnected(up: boolean): void {
  connected = up;
  for (const l of statusListeners) l(up);
}

export function onLive(listener: Listener): () => void {
  connect();
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Whether the event stream is up, for the header's indicator. */
export function useLiveStatus(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    connect();
    statusListeners.add(setUp);
    return () => {
      statusListeners.delete(setUp);
    };
  }, []);
  return up;
}

export interface Resource<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/** Events close together cause one fetch: a burst of claims is one refresh, not a hundred. */
const REFETCH_DELAY_MS = 60;

/** GETs `path` (null: nothing yet), and again whenever an event of `types` arrives. */
export function useResource<T>(path: string | null, types: readonly string[] = ["*"]): Resource<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({
    data: null,
    error: null,
    loading: path !== null,
  });
  const generation = useRef(0);
  const [tick, setTick] = useState(0);
  const typesKey = types.join(",");
  useEffect(() => {
    if (path === null) return;
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    get<T>(path).then(
      (data) => {
        if (mine === generation.current) setState({ data, error: null, loading: false });
      },
      (error: Error) => {
        if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, [path, tick]);
  useEffect(() => {
    if (path === null) return;
    const wanted = typesKey.split(",");
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = onLive((type) => {
      if (
        !wanted.includes("*") &&
        !wanted.includes(type) &&
        !wanted.some((w) => w.endsWith(".*") && type.startsWith(w.slice(0, -1)))
      )
        return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, REFETCH_DELAY_MS);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [path, typesKey]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
