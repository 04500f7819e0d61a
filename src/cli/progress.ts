// A live progress line for commands that can take a while: `validate: 1200/3000 files`, redrawn in place with
// `\r` on stderr and cleared at the end, so the output that follows reads as if it had never been there.
// Shown only where Io offers a terminal to draw on (io.progress: stderr is a TTY, never in the daemon's
// answers), never under --json, and only once the work has lasted PROGRESS_AFTER_MS: a fast run prints
// nothing. Updates come from the work itself (the core's onProgress callbacks), often synchronously from a
// tight loop, so drawing is throttled by the clock rather than by a timer.
// @req TERM-5
import type { Io } from "./output.js";
import { fitWidth } from "./table.js";

/** A run shorter than this shows no progress; KEEL_PROGRESS_AFTER_MS overrides it (0: at once). */
const PROGRESS_AFTER_MS = 300;
/** The line is redrawn at most this often. */
const REDRAW_MS = 80;

export interface Progress {
  /** Whether a line can be drawn at all (a terminal, not --json): work that redraws by the clock asks first. */
  readonly live: boolean;
  /** `done` of `total` (a count alone when the total is not known), with an optional detail after it. */
  update(done: number, total?: number, detail?: string): void;
  /** A line that stays: printed on stderr, above the progress line when one is drawn. */
  print(line: string): void;
  /** Clears the line; call it before the command prints its answer. */
  end(): void;
}

/** `label` is what the count counts, e.g. "validate: files". */
export function startProgress(io: Io, json: boolean, label: string): Progress {
  const tty = json ? undefined : io.progress;
  const after = delay();
  const started = performance.now();
  let drawn = false;
  let lastDraw = -Infinity;
  let last = "";
  const draw = (text: string) => {
    if (!tty) return;
    tty.write(`\r\x1b[K${fitWidth(text, (tty.columns || 80) - 1)}`);
    drawn = true;
  };
  const clear = () => {
    if (tty && drawn) tty.write("\r\x1b[K");
    drawn = false;
  };
  return {
    live: tty !== undefined,
    update(done, total, detail) {
      last = `${label} ${total === undefined ? done : `${done}/${total}`}${detail ? ` ${detail}` : ""}`;
      const now = performance.now();
      if (!tty || now - started < after || now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      draw(last);
    },
    print(line) {
      if (json) return;
      const wasDrawn = drawn;
      clear();
      io.err(line);
      if (wasDrawn) draw(last);
    },
    end() {
      clear();
    },
  };
}

/**
 * Runs `work` with a progress line that is cleared when it ends, however it ends (also when it returns a promise).
 * `work` is handed the update function to pass to the core as its onProgress.
 */
export function withProgress<T>(
  io: Io,
  json: boolean,
  label: string,
  work: (update: Progress["update"]) => T,
): T {
  const progress = startProgress(io, json, label);
  let result: T;
  try {
    result = work(progress.update);
  } catch (e) {
    progress.end();
    throw e;
  }
  if (result instanceof Promise) return result.finally(progress.end) as T;
  progress.end();
  return result;
}

function delay(): number {
  const set = Number(process.env.KEEL_PROGRESS_AFTER_MS);
  return process.env.KEEL_PROGRESS_AFTER_MS !== undefined && Number.isFinite(set) && set >= 0
    ? set
    : PROGRESS_AFTER_MS;
}
