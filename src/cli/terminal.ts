// How the CLI treats its terminal, shared by local runs (cli/output.ts) and answers from the daemon (cli/main.ts),
// so both decide alike: whether to colour, and that a reader that stops early ends the output quietly.

// @req TERM-2, TERM-3
/**
 * Colour as supports-color and Node decide it: FORCE_COLOR wins (0 or false turns colour off; 1, 2, 3, true or
 * empty turns it on, even when stdout is a pipe, as in CI); otherwise a non-empty NO_COLOR turns it off
 * (no-color.org); otherwise colour exactly when stdout is a terminal.
 */
export function wantsColor(): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (process.env.NO_COLOR) return false;
  return Boolean(process.stdout.isTTY);
}

// @req TERM-1
/** The exit status after a reader closed the pipe: 128 + SIGPIPE, as a shell reports for a coreutils program. */
export const CLOSED_PIPE_EXIT = 141;

let watching = false;

/**
 * A reader that stops early (`keel tasks list | head`) closes the pipe: the process ends there, quietly, with
 * CLOSED_PIPE_EXIT. Installed once, before anything is written, on both streams: a closed stderr
 * (`keel … |& head`) must not turn into a crash report that nobody can read either.
 */
export function endOnClosedPipe(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      // After the first EPIPE the stream is destroyed: later writes of the same burst fail as destroyed.
      if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") process.exit(CLOSED_PIPE_EXIT);
      throw e;
    });
  }
}

/** True once stdout can take no more output (its reader closed the pipe): a long burst stops writing. */
export function stdoutClosed(): boolean {
  return process.stdout.destroyed;
}
