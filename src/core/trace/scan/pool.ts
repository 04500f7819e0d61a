// Running a trace scan over the batches of paths the listing streams in: on this thread alone, or with worker
// threads beside it. The calling thread scans too (a worker takes tens of milliseconds to start, and this
// thread would otherwise only wait); each worker, once it says it is ready, keeps two batches in flight, so no
// thread idles while another has a backlog. A worker that fails has its unfinished batches put back in the
// queue, where this thread picks them up: nothing is lost and nothing waits forever.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type BatchResult, type FileContext, type ScanLimits, scanBatch } from "./file.js";
import type { Batch } from "./files.js";

/** Set by the bundler: the worker entry, relative to the chunk this module is bundled into. */
declare const KEEL_TRACE_WORKER: string | undefined;

/** What every worker is started with. */
export interface WorkerInit {
  root: string;
  known: string[];
  limits: ScanLimits;
}

/** Messages a worker sends: once `ready`, then one `result` per batch. */
export type WorkerMessage = { ready: true } | { id: number; result: BatchResult };

const IN_FLIGHT = 2;

/** The worker entry of the bundle, or null when running from source (tests) or when it is missing. */
export function workerEntry(): URL | null {
  if (typeof KEEL_TRACE_WORKER !== "string") return null;
  const url = new URL(KEEL_TRACE_WORKER, import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  alive: boolean;
  pending: Map<number, Batch>;
}

/**
 * Scans `first`, then every batch `rest` yields, handing each batch's result to `merge`: on this thread with
 * `local`, and on `workers` worker threads started from `url` (none when `url` is null or `workers` is 0).
 */
export async function scanBatches(
  first: Batch[],
  rest: AsyncIterator<Batch>,
  local: FileContext,
  merge: (r: BatchResult) => void,
  pool: { url: URL | null; workers: number; init: WorkerInit },
): Promise<void> {
  const queue: Batch[] = [...first];
  const slots: Slot[] = [];
  let listed = false;
  let failure: unknown = null;
  let nextId = 0;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const feed = () => {
    for (const s of slots) {
      while (s.ready && s.alive && s.pending.size < IN_FLIGHT && queue.length > 0) {
        const batch = queue.shift() as Batch;
        const id = nextId++;
        s.pending.set(id, batch);
        s.worker.postMessage({ id, batch });
      }
    }
  };
  const fail = (s: Slot) => {
    if (!s.alive) return;
    s.alive = false;
    for (const batch of s.pending.values()) queue.push(batch);
    s.pending.clear();
    signal();
  };

  if (pool.url !== null) {
    for (let i = 0; i < pool.workers; i++) {
      const slot: Slot = {
        worker: new Worker(pool.url, { workerData: pool.init }),
        ready: false,
        alive: true,
        pending: new Map(),
      };
      slot.worker.unref();
      slot.worker.on("message", (m: WorkerMessage) => {
        if ("ready" in m) slot.ready = true;
        else if (slot.pending.delete(m.id)) merge(m.result);
        feed();
        signal();
      });
      slot.worker.on("error", () => fail(slot));
      slot.worker.on("exit", () => fail(slot));
      slots.push(slot);
    }
  }

  // The listing streams into the queue while the batches already there are scanned.
  const listing = (async () => {
    try {
      for (let r = await rest.next(); !r.done; r = await rest.next()) {
        queue.push(r.value);
        feed();
        signal();
      }
    } catch (e) {
      failure = e;
    }
    listed = true;
    signal();
  })();

  try {
    for (;;) {
      feed();
      const batch = queue.shift();
      if (batch !== undefined) {
        merge(scanBatch(local, batch));
        // Let worker results, new paths and ready workers in before the next batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (listed && slots.every((s) => s.pending.size === 0)) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    await listing;
    if (failure !== null) throw failure;
  } finally {
    for (const s of slots) {
      s.alive = false;
      void s.worker.terminate();
    }
  }
}
