// Resolves `keel validate <path|id>` to a selection over the analysis. A path must stay inside the project.
// @req VAL-1, VAL-19
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Finding } from "../../model/types.js";
import { usageError } from "../../workspace/errors.js";
import { isWithin } from "../../workspace/paths.js";
import type { FullResult, ItemVerdict } from "./engine.js";

export type Selector = (item: ItemVerdict | null, finding: Finding | null) => boolean;

export function resolveTarget(
  target: string,
  root: string,
  cwd: string,
  result: FullResult,
  ownerOf: (id: string) => string | undefined,
): Selector {
  const byId = result.items.filter((i) => i.id === target);
  if (byId.length > 0 && !looksLikePath(target, cwd)) {
    return (item, f) => (item ? byId.includes(item) : (f?.target ?? "") === target);
  }
  const owner = looksLikePath(target, cwd) ? undefined : ownerOf(target);
  if (owner !== undefined) {
    return (item, f) => (item ? item.type === "spec" && item.id === owner : f?.target === target);
  }
  const abs = resolve(cwd, target);
  if (existsSync(abs)) {
    const rootReal = realpathSync(root);
    const real = realpathSync(abs);
    if (!isWithin(rootReal, real)) {
      throw usageError(
        `path ${target} is outside the project`,
        `give a path inside ${relative(cwd, root) || "."}`,
      );
    }
    return underFolder(relative(rootReal, real).split(sep).join("/"));
  }
  if (isAbsolute(target) || target.startsWith("..")) {
    throw usageError(`path ${target} does not exist`, "give an existing path inside the project, or an ID");
  }
  throw usageError(
    `nothing named "${target}": no such path, spec, change or requirement ID`,
    "run `keel list` to see specs and changes, `keel list requirements` for requirement IDs",
  );
}

function looksLikePath(target: string, cwd: string): boolean {
  return (
    target.startsWith(".") ||
    target.startsWith("/") ||
    (target.includes("/") && existsSync(resolve(cwd, target)))
  );
}

/** What lies under a project-relative folder ("" is the whole project): a path target, or a `--root` scope. */
export function underFolder(rel: string): Selector {
  const under = (file: string) => rel === "" || file === rel || file.startsWith(`${rel}/`);
  return (item, f) => (item ? under(item.file) : under(f?.file ?? ""));
}

/** What every selector selects. */
export function allOf(selectors: Selector[]): Selector {
  return (item, f) => selectors.every((s) => s(item, f));
}
