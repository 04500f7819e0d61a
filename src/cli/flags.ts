// Flags several commands share, declared once so their help reads the same everywhere.
import type { Flags } from "./command.js";

/** Who acts: recorded as provenance and checked by policy. */
export const ACTOR_FLAGS = {
  as: {
    type: "string",
    value: "kind:name",
    help: "act as this actor (human:alice, agent:claude); default KEEL_ACTOR",
  },
  tool: { type: "string", value: "t", help: "the tool acting (recorded with an agent's provenance)" },
  model: { type: "string", value: "m", help: "the model acting (recorded with an agent's provenance)" },
} as const satisfies Flags;

export const ACTOR_USAGE = "[--as <kind:name>] [--tool <t>] [--model <m>]";

/** The verdict's threshold for commands that report findings. */
export const FAIL_ON_FLAG = {
  "fail-on": {
    type: "string",
    value: "error|warning",
    help: "fail (exit 1) on errors only (default), or on warnings too",
    complete: ["error", "warning"],
  },
} as const satisfies Flags;

/** For commands that write files: plan the writes, make none. */
export const DRY_RUN_FLAG = {
  "dry-run": { type: "boolean", help: "say what would be written, and write nothing" },
} as const satisfies Flags;
