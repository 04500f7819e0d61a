// Entry point of the `keel` binary: a read command goes to the project's daemon when one runs (cli/daemon/),
// and is run here otherwise, or when the daemon cannot answer it. Either way the output is the same, byte for byte.
// The command table and output code are loaded only when this process answers: a daemon's client needs neither.
import { askDaemon } from "./daemon/client.js";
import { endOnClosedPipe, stdoutClosed, wantsColor } from "./terminal.js";

async function main(argv: string[]): Promise<number> {
  // First of all: a pipe closed early must end the process quietly whichever path writes the output.
  endOnClosedPipe();
  const answered = await askDaemon(argv, process.cwd(), wantsColor());
  if (!answered) {
    const [{ runCommandLine }, { stdio }] = await Promise.all([
      import("./dispatch.js"),
      import("./output.js"),
    ]);
    return runCommandLine(argv, stdio(), process.cwd());
  }
  for (const chunk of answered.stdout) if (!stdoutClosed()) process.stdout.write(chunk);
  for (const chunk of answered.stderr) process.stderr.write(chunk);
  return answered.code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 3;
  },
);
