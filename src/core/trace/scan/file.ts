// One file: read it as bytes, refuse what cannot be text, and decode and lex only what the byte prefilter
// lets through (most files hold no annotation and cost one read and a few Buffer.indexOf calls).
// Bad input becomes a positioned ScanProblem, never an exception.
import { isUtf8 } from "node:buffer";
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs";
import { firstInvalidUtf8 } from "../../../workspace/read.js";
import type { RawLink, ScanProblem } from "../types.js";
import { extractCode } from "./code.js";
import type { Batch } from "./files.js";
import type { KnownIds } from "./ids.js";
import { fileKind, isMarkdownPath, isTestPath } from "./languages.js";
import { extractMarkdown } from "./markdown.js";
import { FileSink, mib } from "./sink.js";

/** Files larger than this are not read (rule trace/too-large). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Lines longer than this (in UTF-16 code units) are not lexed (rule trace/long-line). */
export const MAX_LINE = 1024 * 1024;
/** A NUL byte this near the start makes a file binary, as git and ripgrep judge it. */
export const BINARY_PROBE = 8192;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const REF_OPEN = Buffer.from("[[");

export interface ScanLimits {
  maxFileBytes: number;
  maxLine: number;
}

/** What one thread keeps between files: a reusable read buffer and the folders it has checked. */
export interface FileContext {
  /** The project root's real path. */
  root: string;
  known: KnownIds;
  limits: ScanLimits;
  irregular: Buffer[];
  buffer: Buffer;
  /** Folder → whether it is a real folder (no symbolic link on the way from the root). */
  folders: Map<string, boolean>;
  lastFolder: string;
  lastFolderReal: boolean;
}

export function fileContext(root: string, known: KnownIds, limits: ScanLimits): FileContext {
  return {
    root,
    known,
    limits,
    irregular: known.irregular.map((id) => Buffer.from(id)),
    buffer: Buffer.allocUnsafe(1024 * 1024),
    folders: new Map([["", true]]),
    lastFolder: "",
    lastFolderReal: true,
  };
}

export interface FileOutcome {
  /** False for paths that are not regular files of the project (gone, a link, a folder, a device). */
  counted: boolean;
  links: RawLink[];
  problems: ScanProblem[];
}

const SKIPPED: FileOutcome = { counted: false, links: [], problems: [] };
const NOTHING: FileOutcome = { counted: true, links: [], problems: [] };

/** Scans the file at project-relative path `rel`. Never throws for anything the file holds. */
export function scanFile(ctx: FileContext, rel: string, checkFolder = true): FileOutcome {
  if (checkFolder) {
    const slash = rel.lastIndexOf("/");
    if (slash !== -1 && !inRealFolder(ctx, rel, slash)) return SKIPPED;
  }
  let fd: number;
  try {
    // O_NOFOLLOW: a symbolic link is never followed (its target, if in the project, is listed at its own path).
    // O_NONBLOCK: a FIFO cannot stall the scan.
    fd = openSync(`${ctx.root}/${rel}`, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== undefined && GONE.has(code) ? SKIPPED : unreadable(rel, code);
  }
  let bytes: Buffer | number;
  try {
    bytes = readAll(ctx, fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== undefined && GONE.has(code) ? SKIPPED : unreadable(rel, code);
  } finally {
    closeSync(fd);
  }
  if (typeof bytes === "number") {
    const sink = new FileSink(rel);
    sink.problem(
      "trace/too-large",
      "info",
      1,
      1,
      `file is ${mib(bytes)}; files over ${mib(ctx.limits.maxFileBytes)} are not scanned for trace links`,
    );
    return { counted: true, links: [], problems: sink.problems };
  }
  return scanBytes(ctx, rel, bytes);
}

/** Errors that mean "not a regular file of the project any more": skipped without a word. */
const GONE = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EMLINK", "EISDIR", "EAGAIN", "ENXIO"]);

function unreadable(rel: string, code: string | undefined): FileOutcome {
  const sink = new FileSink(rel);
  sink.problem(
    "trace/unreadable",
    "warning",
    1,
    1,
    `cannot read file (${code ?? "unknown error"})${code === "EACCES" ? ": make it readable (chmod u+r)" : ""}`,
  );
  return { counted: true, links: [], problems: sink.problems };
}

/**
 * The file's bytes, or its size when it is over the limit. A file that fits the shared buffer is read with one
 * call and no stat (a short read of a regular file is its end); its bytes are valid until the next read.
 */
function readAll(ctx: FileContext, fd: number): Buffer | number {
  const buf = ctx.buffer;
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n < buf.length) return buf.subarray(0, n);
  const size = fstatSync(fd).size;
  if (size > ctx.limits.maxFileBytes) return size;
  const into = Buffer.allocUnsafe(Math.max(size, n));
  buf.copy(into, 0, 0, n);
  let got = n;
  while (got < into.length) {
    const more = readSync(fd, into, got, into.length - got, got);
    if (more === 0) break; // shrank while being read: scan what is there
    got += more;
  }
  return into.subarray(0, got);
}

/** Whether the folder of `rel` (its first `slash` characters) is real; the last answer is reused, paths come sorted. */
function inRealFolder(ctx: FileContext, rel: string, slash: number): boolean {
  const last = ctx.lastFolder;
  if (slash === last.length && rel.startsWith(last)) return ctx.lastFolderReal;
  ctx.lastFolder = rel.slice(0, slash);
  ctx.lastFolderReal = realFolder(ctx, ctx.lastFolder);
  return ctx.lastFolderReal;
}

/** Whether `dir` (project-relative) is a folder reached without a symbolic link; checked once per folder. */
function realFolder(ctx: FileContext, dir: string): boolean {
  const known = ctx.folders.get(dir);
  if (known !== undefined) return known;
  const slash = dir.lastIndexOf("/");
  let ok = slash === -1 || realFolder(ctx, dir.slice(0, slash));
  if (ok) {
    try {
      ok = lstatSync(`${ctx.root}/${dir}`).isDirectory();
    } catch {
      ok = false;
    }
  }
  ctx.folders.set(dir, ok);
  return ok;
}

/**
 * The prefilter: could these bytes hold a link at all? An annotation keyword anywhere; in Markdown, `[[`; in a
 * test file, something shaped like a requirement ID (or a known irregular one). Nothing is decoded for it.
 */
function mayLink(ctx: FileContext, rel: string, b: Buffer): boolean {
  if (hasKeyword(b)) return true;
  if (isMarkdownPath(rel)) return b.indexOf(REF_OPEN) !== -1;
  if (!isTestPath(rel)) return false;
  for (const id of ctx.irregular) if (b.indexOf(id) !== -1) return true;
  return hasIdShape(b);
}

/** Whether `@req`, `@verifies` or `@task` may be in the bytes: one pass over the `@`s (rare in most files). */
function hasKeyword(b: Buffer): boolean {
  for (let i = b.indexOf(64); i !== -1; i = b.indexOf(64, i + 1)) {
    const c = b[i + 1];
    const d = b[i + 2];
    const e = b[i + 3];
    if (
      c === 114
        ? d === 101 && e === 113
        : c === 118
          ? d === 101 && e === 114
          : c === 116 && d === 97 && e === 115
    )
      return true; // @req, @ver(ifies), @tas(k)
  }
  return false;
}

/** Whether the bytes hold `[A-Z][A-Z0-9]*-[0-9]` anywhere: the cheap check before looking for test names. */
function hasIdShape(b: Buffer): boolean {
  for (let i = b.indexOf(45, 1); i !== -1; i = b.indexOf(45, i + 1)) {
    const next = b[i + 1] as number;
    if (next < 48 || next > 57) continue;
    let j = i - 1;
    while (j >= 0 && isUpperOrDigit(b[j] as number)) j--;
    // The run of capitals and digits before `-` must start with a capital.
    const first = b[j + 1] as number;
    if (j + 1 < i && first >= 65 && first <= 90) return true;
  }
  return false;
}

function isUpperOrDigit(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

export function scanBytes(ctx: FileContext, rel: string, b: Buffer): FileOutcome {
  // A binary file is only looked at when it passes the prefilter: images and archives are skipped unreported.
  if (!mayLink(ctx, rel, b)) return NOTHING;
  const nul = (b.length > BINARY_PROBE ? b.subarray(0, BINARY_PROBE) : b).indexOf(0);
  if (nul !== -1) {
    const sink = new FileSink(rel);
    const { line, col } = positionOfByte(b, nul);
    sink.problem(
      "trace/binary",
      "warning",
      line,
      col,
      "binary file (a NUL byte here) holds what looks like a trace annotation; binary files are not scanned",
    );
    return { counted: true, links: [], problems: sink.problems };
  }
  const sink = new FileSink(rel);
  if (!isUtf8(b)) {
    const bad = firstInvalidUtf8(b);
    const { line, col } = positionOfByte(b, bad);
    sink.problem(
      "trace/invalid-utf8",
      "warning",
      line,
      col,
      `invalid UTF-8 at byte ${bad}: the file was scanned with each bad byte read as U+FFFD`,
    );
  }
  const text = b.toString("utf8");
  const kind = fileKind(rel);
  if (kind.markdown) extractMarkdown(text, sink, ctx.known, ctx.limits.maxLine);
  else extractCode(text, sink, kind, ctx.known, ctx.limits.maxLine);
  return { counted: true, links: sink.links, problems: sink.problems };
}

/** 1-based line and column (UTF-16 code units of the decoded line) of byte `index`. */
export function positionOfByte(b: Buffer, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = b.indexOf(10); i !== -1 && i < index; i = b.indexOf(10, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  let col = b.toString("utf8", lineStart, index).length + 1;
  if (line === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf && index >= 3) col--; // a BOM is not column 1
  return { line, col };
}

/** What a batch of files yields, as a worker hands it back. */
export interface BatchResult {
  links: RawLink[];
  problems: ScanProblem[];
  files: number;
  filesWithLinks: number;
  /** Paths that turned out not to be regular files of the project (not counted, never cached). */
  skipped: string[];
}

export function scanBatch(ctx: FileContext, batch: Batch): BatchResult {
  const out: BatchResult = { links: [], problems: [], files: 0, filesWithLinks: 0, skipped: [] };
  for (const rel of batch.paths) {
    const r = scanFile(ctx, rel, batch.tracked);
    if (!r.counted) {
      out.skipped.push(rel);
      continue;
    }
    out.files++;
    if (r.links.length > 0) {
      out.filesWithLinks++;
      for (const l of r.links) out.links.push(l);
    }
    for (const p of r.problems) out.problems.push(p);
  }
  return out;
}
