// PLACEHOLDER: filled by this area's owner this session.
import type { Operation } from "./operation.js";

export const OVERSIGHT_OPERATIONS: Operation[] = [];
