// Tasks: loading every tasks.md of a project, the dependency graph, readiness and exports.
export * from "./export.js";
export * from "./graph.js";
export * from "./load.js";
export * from "./lookup.js";
export * from "./ready-cache.js";
export * from "./view.js";
