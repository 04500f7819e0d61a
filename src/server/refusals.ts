// Refused requests, counted rather than logged one by one: a client that keeps sending bad tokens must not grow
// the audit log with every request. Each key (a client address, or a token over its rate) gets at most one
// audit event per window: the first refusal after a quiet window is written at once, so a single mistake is
// visible straight away, and the refusals that follow within the window are written as one event, with their
// count, when the window ends or the server stops.
// @req TRU-10

/** Keys kept before full buckets are swept out: many client addresses must not grow the map without bound. */
const MAX_KEYS = 10_000;

/** Continuously refilled token buckets, one per key: `size` requests per minute, bursts of up to `size`. */
export class RateBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly size: number) {}

  /** Takes one request from the key's bucket; returns 0, or the ms until one is available (taking nothing). */
  take(key: string, now: number): number {
    const b = this.refilled(key, now);
    if (b.tokens < 1) return this.untilOne(b.tokens);
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) this.sweep(now);
    return 0;
  }

  /** The ms until the key's bucket holds a request (0 when it holds one now), taking nothing. */
  wait(key: string, now: number): number {
    return this.untilOne(this.refilled(key, now).tokens);
  }

  private refilled(key: string, now: number): { tokens: number; at: number } {
    const b = this.buckets.get(key);
    if (b === undefined) return { tokens: this.size, at: now };
    b.tokens = Math.min(this.size, b.tokens + ((now - b.at) * this.size) / 60_000);
    b.at = now;
    // A full bucket is what an unknown key gets, so it need not be kept.
    if (b.tokens >= this.size) this.buckets.delete(key);
    return b;
  }

  private untilOne(tokens: number): number {
    return tokens >= 1 ? 0 : ((1 - tokens) * 60_000) / this.size;
  }

  private sweep(now: number): void {
    for (const key of [...this.buckets.keys()]) this.refilled(key, now);
  }
}

/** The refusals of one key since its last audit event. */
export interface Tally {
  count: number;
  /** How many refusals had each reason (`missing`, `unknown`, `throttled`, …). */
  reasons: Record<string, number>;
  /** The distinct `METHOD /path` refused, up to MAX_TARGETS. */
  targets: string[];
  first: Date;
  last: Date;
}

export interface Refusal {
  reason: string;
  target: string;
}

const MAX_TARGETS = 10;

interface Window {
  /** Refusals not yet written; null when the last event covers all of them. */
  pending: Tally | null;
  timer: NodeJS.Timeout;
}

export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    /** Writes one audit event for `tally`; must not throw (a timer calls it). */
    private readonly write: (key: string, tally: Tally) => void,
    readonly windowMs = 60_000,
  ) {}

  add(key: string, refusal: Refusal, now = new Date()): void {
    const w = this.windows.get(key);
    if (w === undefined) {
      // A quiet key: written at once, and the window starts.
      this.write(key, count(null, refusal, now));
      this.windows.set(key, { pending: null, timer: this.endOfWindow(key) });
      return;
    }
    w.pending = count(w.pending, refusal, now);
  }

  /** Writes what every window holds (the server is stopping) and forgets them. */
  close(): void {
    for (const [key, w] of this.windows) {
      clearTimeout(w.timer);
      if (w.pending) this.write(key, w.pending);
    }
    this.windows.clear();
  }

  private endOfWindow(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const w = this.windows.get(key);
      if (w === undefined) return;
      if (w.pending === null) {
        this.windows.delete(key);
        return;
      }
      // The window's refusals in one event, which starts the next window.
      this.write(key, w.pending);
      w.pending = null;
      w.timer = this.endOfWindow(key);
    }, this.windowMs);
    // A pending count never keeps a stopping process alive: close() writes it.
    timer.unref();
    return timer;
  }
}

function count(tally: Tally | null, r: Refusal, now: Date): Tally {
  const t = tally ?? { count: 0, reasons: {}, targets: [], first: now, last: now };
  t.count++;
  t.reasons[r.reason] = (t.reasons[r.reason] ?? 0) + 1;
  if (t.targets.length < MAX_TARGETS && !t.targets.includes(r.target)) t.targets.push(r.target);
  t.last = now;
  return t;
}
