// Contracts and design files referenced but missing. Two kinds of reference are read, outside code blocks:
//   - relative Markdown links `[text](path)` and link definitions `[id]: path`, resolved from the file's folder
//     (an error when the target is missing: the link is broken now);
//   - paths in inline code that name a plan artifact — a `.md`, `.yaml`/`.yml` or `.json` file, or anything
//     under a `contracts/` folder — resolved from the file's folder, then from the project root (a warning: a
//     path in prose may name a file still to be written). A bare name (`design.md`) counts only in a change's
//     or a feature's folder, where it names a file next to it.
// URLs, absolute paths, globs and placeholders are not references, nor is anything in a scenario step of a spec
// (a GIVEN/WHEN/THEN line describes the system's world, not the repository). A path leading out of the project is never
// looked at. In a task file, a file named on the line of an open task whose title says it creates something
// ("Create…", "Add…", "Write…") is that task's output, not a reference.
import { lstatSync, realpathSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import type { Finding } from "../../model/types.js";
import { isWithin } from "../../workspace/paths.js";
import type { LoadedTasks } from "../tasks/load.js";
import { codeSpans, proseLines, withoutCode } from "./prose.js";
import type { TextFile } from "./sources.js";

export const MISSING_FILE = "analyze/missing-file";

const LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>\n]*>|[^)\s]+)[^)]*\)/g;
const LINK_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*(<[^>\n]*>|\S+)/;
const PATH_LIKE = /^[A-Za-z0-9_.][A-Za-z0-9_.\-/]*$/;
const ARTIFACT_EXT = /\.(?:md|markdown|ya?ml|json)$/i;
const STEP = /^\s*(?:[-*+]|\d+[.)])\s+(?:\*\*|__)?(?:GIVEN|WHEN|THEN|AND|BUT)\b/i;
const CREATES = /^(?:create|add|write|generate|define|draft|scaffold|introduce|document)\b/i;

interface Candidate {
  raw: string;
  col: number;
  via: "link" | "code";
}

export function missingFiles(root: string, files: readonly TextFile[], tasks: LoadedTasks): Finding[] {
  const outputs = new Map<string, Set<number>>();
  for (const t of tasks.tasks) {
    if (t.status === "done" || !CREATES.test(t.title)) continue;
    const set = outputs.get(t.file) ?? new Set<number>();
    set.add(t.line);
    outputs.set(t.file, set);
  }
  const rootReal = realpathSync(root);
  /** Whether the file exists; a path through a linked folder that leads out of the project is not looked at. */
  const exists = (rel: string): boolean => {
    const abs = join(root, rel);
    for (let dir = dirname(abs); ; dir = dirname(dir)) {
      try {
        const real = realpathSync(dir);
        if (!isWithin(rootReal, real)) return true; // not looked at, not reported
        break;
      } catch {
        if (dir === root || dirname(dir) === dir) break; // missing folder: look further up
      }
    }
    try {
      lstatSync(abs);
      return true;
    } catch {
      return false;
    }
  };
  const out: Finding[] = [];
  for (const file of files) {
    const dir = posix.dirname(file.rel);
    const seen = new Set<string>();
    const skip = outputs.get(file.rel);
    for (const { line, text } of proseLines(file.text)) {
      if (skip?.has(line)) continue;
      // A scenario step describes the system's world ("GIVEN a spec at `keel/specs/x/spec.md`"), not the repository.
      if ((file.kind === "spec" || file.kind === "delta") && STEP.test(text)) continue;
      for (const c of candidates(text)) {
        const resolved = resolve(c, dir, file.inWorkFolder, exists);
        if (resolved === null || seen.has(`${c.via}\u0000${resolved}`)) continue;
        seen.add(`${c.via}\u0000${resolved}`);
        out.push(
          c.via === "link"
            ? {
                rule: MISSING_FILE,
                severity: "error",
                file: file.rel,
                line,
                col: c.col,
                message: `link to ${c.raw}: no such file (${resolved})`,
                hint: "create the file, or fix the link (it is read relative to this file's folder)",
                target: resolved,
              }
            : {
                rule: MISSING_FILE,
                severity: "warning",
                file: file.rel,
                line,
                col: c.col,
                message: `\`${c.raw}\` names a file that does not exist`,
                hint: "create it, or fix the path (read relative to this file's folder, then the project root)",
                target: resolved,
              },
        );
      }
    }
  }
  return out;
}

function candidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  const prose = withoutCode(text);
  LINK.lastIndex = 0;
  for (let m = LINK.exec(prose); m !== null; m = LINK.exec(prose)) {
    const target = m[1] as string;
    out.push({ raw: target, col: m.index + m[0].indexOf(target, m[0].indexOf("](")) + 1, via: "link" });
  }
  const def = LINK_DEFINITION.exec(prose);
  if (def) out.push({ raw: def[1] as string, col: prose.indexOf(def[1] as string) + 1, via: "link" });
  for (const span of codeSpans(text))
    out.push({ raw: span.content, col: span.contentStart + 1, via: "code" });
  return out;
}

/**
 * The project-relative path a reference names when that path is missing; null when it exists, is not a
 * reference Keel checks, or lies outside the project.
 */
function resolve(
  c: Candidate,
  dir: string,
  inWorkFolder: boolean,
  exists: (rel: string) => boolean,
): string | null {
  if (c.via === "link") {
    let target = c.raw.replace(/^<|>$/g, "");
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target) || target.startsWith("#") || target.startsWith("/"))
      return null;
    target = target.replace(/[#?].*$/, "");
    try {
      target = decodeURIComponent(target);
    } catch {
      return null;
    }
    if (target === "") return null;
    const rel = inside(posix.join(dir, target));
    return rel === null || exists(rel) ? null : rel;
  }
  const p = c.raw;
  if (!PATH_LIKE.test(p) || !/[A-Za-z]/.test(p) || p.includes("//")) return null;
  const segments = p.split("/").filter((s) => s !== "");
  const artifact = ARTIFACT_EXT.test(p) || segments.some((s) => s.toLowerCase() === "contracts");
  if (!artifact) return null;
  if (!p.includes("/")) {
    if (!inWorkFolder) return null;
    const rel = inside(posix.join(dir, p));
    return rel === null || exists(rel) ? null : rel;
  }
  const fromDir = inside(posix.join(dir, p));
  const fromRoot = inside(posix.normalize(p));
  if (fromDir === null && fromRoot === null) return null;
  if ((fromDir !== null && exists(fromDir)) || (fromRoot !== null && exists(fromRoot))) return null;
  return fromRoot ?? fromDir;
}

/** The normalised project-relative path, or null when it leaves the project. */
function inside(rel: string): string | null {
  const n = posix.normalize(rel).replace(/\/+$/, "");
  if (n === "" || n === "." || n === ".." || n.startsWith("../") || posix.isAbsolute(n)) return null;
  return n;
}
