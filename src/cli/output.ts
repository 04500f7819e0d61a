// Output conventions shared by every command: JSON on --json, colour as cli/terminal.ts decides, errors without
// stack traces, progress only on a terminal's stderr (cli/progress.ts).
import { styleText } from "node:util";
import { storeErrorOf } from "../store/guard.js";
import { EXIT, type ExitCode, KeelError } from "../workspace/errors.js";
import { endOnClosedPipe, stdoutClosed, wantsColor } from "./terminal.js";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  color: boolean;
  /**
   * Where a live progress line may be drawn: stderr, present only when it is a terminal. Absent when stderr is
   * piped, in the daemon's answers and in tests that capture the output: progress is then not shown at all.
   */
  progress?: Pick<NodeJS.WriteStream, "write" | "columns">;
}

export function stdio(): Io {
  const color = wantsColor();
  endOnClosedPipe();
  return {
    // A burst of thousands of lines stops writing once the reader has gone (the process ends on the next tick).
    out: (s) => {
      if (!stdoutClosed()) process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
    },
    err: (s) => process.stderr.write(s.endsWith("\n") ? s : `${s}\n`),
    color,
    ...(process.stderr.isTTY ? { progress: process.stderr } : {}),
  };
}

type Style = Parameters<typeof styleText>[0];

export function paint(io: Io, style: Style, s: string): string {
  // The decision is io.color's alone: Node would otherwise check the stream again, and the daemon's is no terminal.
  return io.color ? styleText(style, s, { validateStream: false }) : s;
}

export function printJson(io: Io, value: unknown): void {
  io.out(jsonText(value));
}

/** The JSON every command prints: two-space indented. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

// @req VAL-19
/** Prints an error the way every command does and returns its exit code. */
export function reportError(io: Io, thrown: unknown, json: boolean): ExitCode {
  // SQLite's report of a damaged file names no file: it is told as the store's refusal, not as a Keel bug.
  const e = storeErrorOf(thrown) ?? thrown;
  if (e instanceof KeelError) {
    if (json) {
      printJson(io, {
        ok: false,
        error: {
          code: e.code,
          message: e.message,
          hint: e.hint,
          ...(e.location ? { location: e.location } : {}),
        },
        exitCode: e.exitCode,
      });
    } else {
      const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.col}: ` : "";
      io.err(`${paint(io, "red", "error")}: ${where}${e.message}\n  ${paint(io, "dim", "hint:")} ${e.hint}`);
    }
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (json)
    printJson(io, {
      ok: false,
      error: { code: "internal", message, hint: "please report this as a bug" },
      exitCode: 3,
    });
  else io.err(`${paint(io, "red", "internal error")}: ${message}\n  hint: please report this as a bug`);
  if (process.env.KEEL_DEBUG && e instanceof Error) io.err(e.stack ?? "");
  return EXIT.unreadable;
}
