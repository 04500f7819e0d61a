// The format room's public surface. (The whole-project loader, which needs the file system, is
// `loadProject` in src/core/project.ts.)
export { parseChange } from "./change.js";
export { parseConstitution } from "./constitution.js";
export { parseDeltaSpec } from "./delta.js";
export { parseSpec } from "./spec.js";
