// Whether bubblewrap works here, for the tests that run agents in it: null when it does, else why not.
import { openSandbox } from "../../src/run/sandbox.js";

export function bwrapProblem(): string | null {
  try {
    openSandbox("bwrap");
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
