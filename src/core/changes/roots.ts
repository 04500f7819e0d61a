// The changes of a repository with spec roots (keel.yaml `roots:`). A root's change is worked on through a view
// of the project kept to that root: the same project (its audit log, state and config are the top level's), with
// the root's layouts and `changeRoot` set, so that load.ts finds its changes and living specs in the root's
// folder and every other module runs unchanged. IDs on the command line resolve as others do (findQualified).
// @req MONO-8
import { localId, namespaceOf } from "../../model/namespace.js";
import { usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import type { SpecRoot } from "../../workspace/spec-roots.js";
import { findQualified } from "../query/qualified.js";
import { checkChangeId, findChangeFolder } from "./load.js";

/** The project kept to one spec root's changes and living specs. */
export function changeRootView(project: ProjectRoot, root: SpecRoot): ProjectRoot {
  return {
    ...project,
    layouts: root.layouts,
    native: root.native,
    imported: root.imported,
    changeRoot: root,
  };
}

/** Where changes are listed: the scope's root alone; else the top level, then each root. */
export function changeViews(project: ProjectRoot, scope: SpecRoot | null): ProjectRoot[] {
  if (scope !== null) return [changeRootView(project, scope)];
  return [project, ...project.roots.map((r) => changeRootView(project, r))];
}

/**
 * The view holding the change `id` names: a qualified ID its root's; an unqualified one the scope's first, then
 * the top level's, then the one root that has it (several: exit 2 naming each). None found: the top level,
 * whose requireChange says so.
 */
export async function viewOfChange(
  project: ProjectRoot,
  scope: SpecRoot | null,
  id: string,
): Promise<ProjectRoot> {
  if (project.roots.length === 0) return project;
  const ns = namespaceOf(id);
  if (ns !== null && !project.roots.some((r) => r.name === ns)) {
    throw usageError(
      `no change "${id}": the project has no spec root "${ns}"`,
      `spec roots: ${project.roots.map((r) => r.name).join(", ")}`,
    );
  }
  checkChangeId(localId(id));
  const found = await findQualified(project.roots, scope, id, (qualified) => {
    const name = namespaceOf(qualified);
    const root = project.roots.find((r) => r.name === name);
    const view = name === null ? project : root ? changeRootView(project, root) : null;
    return view !== null && findChangeFolder(view, qualified) !== null ? view : null;
  });
  return found ?? project;
}
