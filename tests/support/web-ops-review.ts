// PLACEHOLDER: filled by this area's owner this session.
import type { WebOpsContext } from "./web-ops.js";

export async function exerciseReviewOperations(_ctx: WebOpsContext): Promise<void> {}
