// How the CLI treats its terminal, shared by local runs (cli/output.ts) and answers from the daemon (cli/main.ts),
// so both decide alike: colour only on a TTY without NO_COLOR, and a reader that stops early ends the output.

export function wantsColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/** A reader that stops early (`keel tasks list | head`) closes the pipe: that ends the output, not in a crash. */
export function endOnClosedPipe(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}
