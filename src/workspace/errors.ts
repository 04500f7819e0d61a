// Errors that stop a command. Each carries the documented exit code and, where known, the file and line.

// @req VAL-18
/**
 * 4: apply refused because of an overlapping edit (a conflict record was written). 5: refused by policy.
 * 6: refused by the task queue (an unknown, held, done or blocked task, or a stale fencing token).
 * 7: refused by backpressure (`keel tasks done` while the task's gates lack passing evidence on this tree).
 */
export const EXIT = {
  ok: 0,
  findings: 1,
  usage: 2,
  unreadable: 3,
  conflict: 4,
  refused: 5,
  claim: 6,
  gates: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class KeelError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint: string,
    readonly location?: { file: string; line: number; col: number },
    readonly code = "error",
  ) {
    super(message);
    this.name = "KeelError";
  }
}

export function usageError(message: string, hint: string): KeelError {
  return new KeelError(message, EXIT.usage, hint, undefined, "usage");
}

export function projectError(message: string, hint: string, location?: KeelError["location"]): KeelError {
  return new KeelError(message, EXIT.unreadable, hint, location, "project");
}
