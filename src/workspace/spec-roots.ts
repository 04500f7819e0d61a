// keel.yaml `roots:`: several spec roots in one repository, read as one project. Each root is a folder holding a
// layout Keel detects (keel/, openspec/, .specify/, .kiro/…); its IDs are namespaced with its name (`payments:PAY-1`).
// Read when the project is found (root.ts), so that every command sees the same roots; a mistake stops there
// with its keel.yaml line. The rules are documented in docs/layouts.md, "Monorepos: several roots".
// @req MONO-1, MONO-2
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { isMap, isScalar, parseDocument, type YAMLMap } from "yaml";
import { ROOT_NAME } from "../model/namespace.js";
import type { Layout, NativeLayout } from "../model/types.js";
import { KeelError, projectError } from "./errors.js";
import { projectFiles, WALK_LIMIT } from "./files.js";
import { isWithin, projectRelativeDir, realpathOrNull } from "./paths.js";
import { detectLayouts, findProjectRoot, isDir, readLayouts } from "./root.js";

export interface SpecRoot {
  /** Lowercase kebab-case; the namespace of its IDs and capabilities (`payments:billing`). */
  name: string;
  /** Repository-relative folder, `/`-separated. */
  dir: string;
  abs: string;
  layouts: Layout[];
  native: NativeLayout[];
  imported: Layout[];
}

const CONFIG = "keel/keel.yaml";
const HINT = "see docs/layouts.md#monorepos-several-roots";

/** A root as keel.yaml writes it (or `roots: auto` finds it), with where a mistake in it is reported. */
interface Declared {
  name: unknown;
  folder: unknown;
  nameLine: number;
  line: number;
}

/** Stops the command at a keel.yaml line. */
type Fail = (line: number, message: string, hint?: string) => never;

/**
 * The roots keel.yaml declares (or, with `roots: auto`, finds), checked: each name kebab-case, each folder
 * relative, inside the repository (also once symbolic links are resolved), holding a layout, and no two folders
 * the same or one inside another. A file without `roots:` costs no parse.
 */
export function readSpecRoots(repo: string): SpecRoot[] {
  let text: string;
  try {
    text = readFileSync(join(repo, CONFIG), "utf8");
  } catch {
    return [];
  }
  if (!/^roots\s*:/m.test(text)) return [];
  const fail: Fail = (line, message, hint = HINT) => {
    throw projectError(message, hint, { file: CONFIG, line, col: 1 });
  };
  const declared = declaredRoots(text, repo, fail);
  const repoReal = realpathOrNull(repo) ?? repo;
  const roots: Array<SpecRoot & { real: string; line: number }> = [];
  for (const d of declared) roots.push(checkedRoot(d, repo, repoReal, roots, fail));
  return roots.map(({ real: _real, line: _line, ...root }) => root);
}

/** The `roots:` entries of keel.yaml's text, in order; none when the key is empty. */
function declaredRoots(text: string, repo: string, fail: Fail): Declared[] {
  const doc = parseDocument(text, { uniqueKeys: true });
  const invalid = doc.errors[0];
  if (invalid) {
    // Said here, not left to the config loader: not every command loads it, and every one needs the roots.
    const at = invalid.linePos?.[0];
    throw projectError(
      `invalid YAML in ${CONFIG}: ${(invalid.message.split("\n")[0] as string).replace(/ at line \d+, column \d+:?$/, "")}`,
      "fix the YAML syntax; see docs/cli.md#configuration",
      { file: CONFIG, line: at?.line ?? 1, col: at?.col ?? 1 },
    );
  }
  if (!isMap(doc.contents)) return [];
  const node = doc.get("roots", true);
  const lineOf = (n: unknown): number => {
    const offset = (n as { range?: [number, number] } | undefined)?.range?.[0] ?? 0;
    return text.slice(0, offset).split("\n").length;
  };
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (isScalar(node) && node.value === "auto") {
    const line = lineOf(node);
    return foundRoots(repo, (message, hint) => fail(line, message, hint)).map((dir) => ({
      name: basename(dir),
      folder: dir,
      nameLine: line,
      line,
    }));
  }
  if (!isMap(node))
    return fail(
      lineOf(node),
      "`roots` must be `auto`, or a mapping of root name to folder (`payments: services/payments`)",
    );
  return (node as YAMLMap).items.map((pair) => ({
    name: isScalar(pair.key) ? pair.key.value : pair.key,
    folder: isScalar(pair.value) ? pair.value.value : null,
    nameLine: lineOf(pair.key),
    line: lineOf(pair.value ?? pair.key),
  }));
}

/** One declared root, checked against the repository and the roots before it. */
function checkedRoot(
  d: Declared,
  repo: string,
  repoReal: string,
  earlier: ReadonlyArray<SpecRoot & { real: string; line: number }>,
  fail: Fail,
): SpecRoot & { real: string; line: number } {
  const { name, folder, line } = d;
  if (typeof name !== "string" || !ROOT_NAME.test(name))
    fail(
      d.nameLine,
      `\`roots.${String(name)}\`: a root's name must be lowercase kebab-case (\`payments\`, \`web-app\`)`,
    );
  const key = `\`roots.${name}\``;
  const twin = earlier.find((r) => r.name === name);
  // Only `roots: auto` can get here with a name twice: YAML refuses a key written twice.
  if (twin)
    fail(
      line,
      `${key}: roots: auto found two folders of that name (${twin.dir}, ${String(folder)})`,
      "list the roots by name instead: `roots: { name: folder, … }`",
    );
  const dir = typeof folder === "string" ? projectRelativeDir(folder) : null;
  if (dir === null)
    fail(
      line,
      `${key} must be a folder relative to the repository root, inside it (no \`..\`, not absolute)`,
    );
  if (dir === ".")
    fail(
      line,
      `${key} names the repository root itself`,
      "the top level's own keel/ is read unnamespaced; give a sub-folder",
    );
  const abs = join(repo, ...dir.split("/"));
  const real = realpathOrNull(abs);
  if (real === null || !isDir(real))
    fail(
      line,
      `${key}: folder ${dir} not found`,
      "create it, or fix the path (relative to the repository root)",
    );
  if (!isWithin(repoReal, real))
    fail(
      line,
      `${key}: ${dir} leads out of the repository through a symbolic link`,
      "name a folder inside the repository",
    );
  const { layouts, imported } = readLayouts(real);
  if (layouts.length === 0)
    fail(
      line,
      `${key}: ${dir} holds no layout Keel reads`,
      "a root holds keel/, openspec/, .specify/ (Spec Kit), .kiro/ (Kiro), .taskmaster/ or .beads/",
    );
  for (const other of earlier) {
    if (real === other.real || isWithin(other.real, real) || isWithin(real, other.real))
      fail(
        line,
        `${key}: ${dir} ${real === other.real ? "is the same folder as" : "overlaps"} \`roots.${other.name}\` (${other.dir}, line ${other.line})`,
        "each root is its own folder; no root may hold another",
      );
  }
  const native = layouts.filter((l): l is NativeLayout => l === "keel" || l === "openspec");
  return { name, dir, abs, layouts, native, imported, real, line };
}

/** The folder names that mark a Keel, OpenSpec, Spec Kit or Kiro layout (root.ts, LAYOUT_PROBES), and those layouts. */
const LAYOUT_MARKERS: ReadonlySet<string> = new Set(["keel", "openspec", ".specify", "specs", ".kiro"]);
const AUTO_LAYOUTS: ReadonlySet<Layout> = new Set(["keel", "openspec", "speckit", "kiro"]);

/**
 * `roots: auto`: the folders below the repository root holding a Keel, OpenSpec, Spec Kit or Kiro layout, from the
 * repository's own files (git's list, or a walk: .gitignore honoured, node_modules never entered). A folder inside
 * a root found, or inside the top level's own layout folders, is not another root.
 */
// @req MONO-7
function foundRoots(repo: string, fail: (message: string, hint: string) => never): string[] {
  const files =
    projectFiles(repo) ??
    fail(
      `roots: auto cannot list the repository's files (more than ${WALK_LIMIT} outside git)`,
      "list the roots by name: `roots: { name: folder, … }`",
    );
  const candidates = new Set<string>();
  for (const file of files) {
    const parts = file.split("/");
    if (parts.includes("node_modules")) continue;
    // From the second segment: a marker first is the top level's own layout.
    for (let i = 1; i < parts.length - 1; i++)
      if (LAYOUT_MARKERS.has(parts[i] as string)) candidates.add(parts.slice(0, i).join("/"));
  }
  const found: string[] = [];
  for (const dir of [...candidates].sort(
    (a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : 1),
  )) {
    if (LAYOUT_MARKERS.has(dir.split("/")[0] as string)) continue;
    if (found.some((f) => dir.startsWith(`${f}/`))) continue;
    const layouts = detectLayouts(join(repo, ...dir.split("/")));
    if (layouts.some((l) => AUTO_LAYOUTS.has(l))) found.push(dir);
  }
  return found.sort();
}

/** The root `--root NAME` keeps a command to (GlobalFlags.scope), or null for the whole repository. */
export function scopedRoot(project: { roots: readonly SpecRoot[] }, scope: string | null): SpecRoot | null {
  return scope === null ? null : (project.roots.find((r) => r.name === scope) ?? null);
}

/** Whether a repository-relative path is in the scope: inside its root's folder; anything without a scope. */
export function inScope(root: SpecRoot | null, file: string): boolean {
  return root === null || file.startsWith(`${root.dir}/`);
}

/** What the roots are, for cache keys: "" without roots, so a project without them keeps its keys. */
export function rootsSignature(roots: readonly SpecRoot[]): string {
  return roots.map((r) => `|${r.name}=${r.dir}:${r.layouts.join("+")}`).join("");
}

/**
 * The global `-C, --root` values, in order, as the project folder and the scope: a value is a scope when the
 * project found so far (from the folder an earlier value gave, else from `cwd`) declares a root of that name;
 * otherwise it is the project folder, as without roots. A keel.yaml whose `roots:` is wrong is reported here.
 */
export function resolveRootFlags(
  values: readonly string[],
  cwd: string,
): { root: string | null; scope: string | null } {
  let root: string | null = null;
  let scope: string | null = null;
  for (const value of values) {
    const start = root === null ? cwd : resolve(cwd, root);
    if (namesRoot(start, root !== null, value, cwd)) scope = value;
    else root = value;
  }
  return { root, scope };
}

function namesRoot(start: string, explicit: boolean, value: string, cwd: string): boolean {
  try {
    return findProjectRoot(start, explicit).roots.some((r) => r.name === value);
  } catch (e) {
    // No project there, or one whose `roots:` is wrong: a value that is a folder is the project folder, and its
    // command says what it finds there; any other value can only have meant a root, so the mistake is said now.
    if (e instanceof KeelError && e.location && !isDir(resolve(cwd, value))) throw e;
    return false;
  }
}
