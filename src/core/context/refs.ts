// Files a task or a requirement points at: relative Markdown links and backticked paths. A reference is
// resolved inside the project only: a path that leaves it, lexically or through a symbolic link, is never
// read, and is reported instead.
import { lstatSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { posix } from "node:path/posix";
import { isWithin } from "../../workspace/paths.js";

export interface PathRef {
  /** As written. */
  raw: string;
  /** Candidate project-relative paths, most likely first (`..` segments kept, so an escape can be seen). */
  candidates: string[];
  /** A Markdown link: written as a reference for sure, so a missing target is worth reporting. */
  link: boolean;
}

export type Resolved =
  | { ok: true; rel: string; abs: string; size: number }
  | { ok: false; reason: "missing" | "outside-project" | "not-a-file"; rel: string };

const LINK = /\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\s*\)/g;
const CODE = /`([^`\s]+)`/g;
/** A backticked word that reads as a file path: path characters only, a folder or a lettered extension. */
const PATHLIKE = /^[\w.@~+\-/]+$/;
const EXTENSION = /\.[A-Za-z][A-Za-z0-9]{0,9}$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** The paths referenced in `text`, which lives in the project file `fromFile`; in order of appearance. */
export function pathReferences(text: string, fromFile: string): PathRef[] {
  const out: PathRef[] = [];
  const dir = posix.dirname(fromFile);
  for (const m of text.matchAll(LINK)) {
    let target = m[1] as string;
    if (SCHEME.test(target) || target.startsWith("#") || target.startsWith("//")) continue;
    target = target.replace(/[#?].*$/, "");
    try {
      target = decodeURI(target);
    } catch {
      // Kept as written: a stray `%` is not an escape.
    }
    if (target === "") continue;
    const rel = target.startsWith("/") ? target.replace(/^\/+/, "") : posix.join(dir, target);
    out.push({ raw: m[1] as string, candidates: [posix.normalize(rel)], link: true });
  }
  // Backticked paths outside links' text: relative to the file that names them first, then to the project root
  // (the order `keel analyze` reads them in).
  for (const m of text.replace(LINK, "").matchAll(CODE)) {
    const raw = m[1] as string;
    if (!PATHLIKE.test(raw) || SCHEME.test(raw)) continue;
    if (!raw.includes("/") && !EXTENSION.test(raw)) continue;
    if (raw.startsWith("/")) {
      out.push({ raw, candidates: [raw], link: false });
      continue;
    }
    const fromRoot = posix.normalize(raw);
    const fromDir = posix.normalize(posix.join(dir, raw));
    out.push({ raw, candidates: fromRoot === fromDir ? [fromDir] : [fromDir, fromRoot], link: false });
  }
  return out;
}

/** Resolves a project-relative path to a regular file inside the project, never following a link out of it. */
export function resolveInProject(root: string, rel: string): Resolved {
  if (isAbsolute(rel) || rel === ".." || rel.startsWith("../"))
    return { ok: false, reason: "outside-project", rel };
  const abs = join(root, rel);
  try {
    lstatSync(abs);
  } catch {
    return { ok: false, reason: "missing", rel };
  }
  let real: string;
  let rootReal: string;
  try {
    real = realpathSync(abs);
    rootReal = realpathSync(root);
  } catch {
    return { ok: false, reason: "missing", rel };
  }
  if (!isWithin(rootReal, real)) return { ok: false, reason: "outside-project", rel };
  const st = statSync(real);
  if (!st.isFile()) return { ok: false, reason: "not-a-file", rel };
  return { ok: true, rel: relative(rootReal, real).split(sep).join("/"), abs: real, size: st.size };
}

/**
 * The file a reference names: the first candidate that is a file inside the project. A path that leads out
 * of the project (by `..` or through a symbolic link), and a link that names no file, come back with the
 * reason; a backticked word that names no file is not a reference at all (null).
 */
export function resolveReference(root: string, ref: PathRef): Resolved | null {
  const misses: Resolved[] = [];
  for (const candidate of ref.candidates) {
    const r = resolveInProject(root, candidate);
    if (r.ok) return r;
    misses.push(r);
  }
  const outside = misses.find((r) => !r.ok && r.reason === "outside-project");
  if (outside) return outside;
  return ref.link ? (misses[0] as Resolved) : null;
}
