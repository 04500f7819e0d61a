// keel.yaml `roots:`: several spec roots in one repository, read as one project. Each root is a folder holding a
// layout Keel detects (keel/, openspec/, .specify/, .kiro/…); its IDs are namespaced with its name (`payments:PAY-1`).
// Read when the project is found (root.ts), so that every command sees the same roots; a mistake stops there
// with its keel.yaml line. The rules are documented in docs/layouts.md, "Monorepos: several roots".
// @req MONO-1, MONO-2
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { ROOT_NAME } from "../model/namespace.js";
import type { Layout, NativeLayout } from "../model/types.js";
import { KeelError, projectError } from "./errors.js";
import { isWithin, projectRelativeDir, realpathOrNull } from "./paths.js";
import { findProjectRoot, isDir, readLayouts } from "./root.js";

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

/**
 * The roots keel.yaml declares, checked: each name kebab-case, each folder relative, inside the repository (also
 * once symbolic links are resolved), holding a layout, and no two folders the same or one inside another. A file
 * without `roots:` costs no parse.
 */
export function readSpecRoots(repo: string): SpecRoot[] {
  let text: string;
  try {
    text = readFileSync(join(repo, CONFIG), "utf8");
  } catch {
    return [];
  }
  if (!/^roots\s*:/m.test(text)) return [];
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
  const fail = (n: unknown, message: string, hint = HINT): never => {
    throw projectError(message, hint, { file: CONFIG, line: lineOf(n), col: 1 });
  };
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node))
    return fail(node, "`roots` must be a mapping of root name to folder (`payments: services/payments`)");
  const repoReal = realpathOrNull(repo) ?? repo;
  const roots: Array<SpecRoot & { real: string; line: number }> = [];
  for (const pair of node.items) {
    const name = isScalar(pair.key) ? pair.key.value : pair.key;
    const at = pair.value ?? pair.key;
    if (typeof name !== "string" || !ROOT_NAME.test(name))
      fail(
        pair.key,
        `\`roots.${String(name)}\`: a root's name must be lowercase kebab-case (\`payments\`, \`web-app\`)`,
      );
    const key = `\`roots.${name as string}\``;
    const value = isScalar(pair.value) ? pair.value.value : null;
    const dir = typeof value === "string" ? projectRelativeDir(value) : null;
    if (dir === null)
      fail(
        at,
        `${key} must be a folder relative to the repository root, inside it (no \`..\`, not absolute)`,
      );
    if (dir === ".")
      fail(
        at,
        `${key} names the repository root itself`,
        "the top level's own keel/ is read unnamespaced; give a sub-folder",
      );
    const abs = join(repo, ...(dir as string).split("/"));
    const real = realpathOrNull(abs);
    if (real === null || !isDir(real))
      fail(
        at,
        `${key}: folder ${dir} not found`,
        "create it, or fix the path (relative to the repository root)",
      );
    if (!isWithin(repoReal, real as string))
      fail(
        at,
        `${key}: ${dir} leads out of the repository through a symbolic link`,
        "name a folder inside the repository",
      );
    const { layouts, imported } = readLayouts(real as string);
    if (layouts.length === 0)
      fail(
        at,
        `${key}: ${dir} holds no layout Keel reads`,
        "a root holds keel/, openspec/, .specify/ (Spec Kit), .kiro/ (Kiro), .taskmaster/ or .beads/",
      );
    for (const other of roots) {
      const r = real as string;
      if (r === other.real || isWithin(other.real, r) || isWithin(r, other.real))
        fail(
          at,
          `${key}: ${dir} ${r === other.real ? "is the same folder as" : "overlaps"} \`roots.${other.name}\` (${other.dir}, line ${other.line})`,
          "each root is its own folder; no root may hold another",
        );
    }
    const native = layouts.filter((l): l is NativeLayout => l === "keel" || l === "openspec");
    roots.push({
      name: name as string,
      dir: dir as string,
      abs,
      layouts,
      native,
      imported,
      real: real as string,
      line: lineOf(at),
    });
  }
  return roots.map(({ real: _real, line: _line, ...root }) => root);
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
    if (declaredRootNames(root === null ? cwd : resolve(cwd, root), root !== null).includes(value))
      scope = value;
    else root = value;
  }
  return { root, scope };
}

function declaredRootNames(start: string, explicit: boolean): string[] {
  try {
    return findProjectRoot(start, explicit).roots.map((r) => r.name);
  } catch (e) {
    // No project there: the value is a folder, and the command says what it finds. A bad `roots:` is said now.
    if (e instanceof KeelError && e.location) throw e;
    return [];
  }
}
