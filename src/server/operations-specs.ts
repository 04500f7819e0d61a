// PLACEHOLDER: filled by this area's owner this session.
import type { Operation } from "./operation.js";

export const SPECS_OPERATIONS: Operation[] = [];
