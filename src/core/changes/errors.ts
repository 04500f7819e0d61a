// Errors of the change workflow, with the documented exit codes: 1 = the change's content is wrong (bad delta,
// missing target, rename onto an existing name), 4 = refused because of an overlapping edit (a conflict record
// was written). Policy refusals (exit 5) come from core/policy.ts.
import { EXIT, KeelError } from "../../workspace/errors.js";

export function invalidChange(message: string, hint: string, location?: KeelError["location"]): KeelError {
  return new KeelError(message, EXIT.findings, hint, location, "invalid-change");
}

export function conflictError(message: string, hint: string): KeelError {
  return new KeelError(message, EXIT.conflict, hint, undefined, "conflict");
}
