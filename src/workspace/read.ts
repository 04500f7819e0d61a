// Reads a source file as text, refusing what is not a Markdown/YAML text file: too large, binary, or not UTF-8.
// @req VAL-19

import { isUtf8 } from "node:buffer";
import { closeSync, openSync, readSync } from "node:fs";

/** Larger files are refused: no hand-written spec comes near this, and parsing one would stall every reader. */
export const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

export interface ReadProblem {
  rule: "input/too-large" | "input/binary" | "input/invalid-utf8" | "input/unreadable";
  message: string;
  hint: string;
  line: number;
  col: number;
}

/**
 * `bytes` is a view of this thread's read buffer: valid until the next `readSource` call, so a caller hashes
 * it at once and never keeps it (the text is a copy of its own).
 */
export type ReadResult = { ok: true; text: string; bytes: Buffer } | { ok: false; problem: ReadProblem };

/**
 * One buffer per thread, reused by every read. A fresh buffer per file (what readFileSync allocates) costs a
 * page fault per page it touches: reading 10,000 specs of 5 KB took 3× as long that way.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

/** Reads the whole file into `scratch`, growing it as needed; stops past MAX_SOURCE_BYTES. */
function readWhole(abs: string): Buffer {
  const fd = openSync(abs, "r");
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        if (length > MAX_SOURCE_BYTES) break;
        const grown = Buffer.allocUnsafeSlow(scratch.length * 2);
        scratch.copy(grown, 0, 0, length);
        scratch = grown;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return scratch.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

export function readSource(abs: string, size?: number): ReadResult {
  if (size !== undefined && size > MAX_SOURCE_BYTES) return tooLarge(size);
  let bytes: Buffer;
  try {
    bytes = readWhole(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem: {
        rule: "input/unreadable",
        message: `cannot read file (${code ?? "unknown error"})`,
        hint:
          code === "EACCES"
            ? "make the file readable (chmod u+r)"
            : "check that the file exists and is readable",
        line: 1,
        col: 1,
      },
    };
  }
  return decodeSource(bytes);
}

export function decodeSource(bytes: Buffer): ReadResult {
  if (bytes.length > MAX_SOURCE_BYTES) return tooLarge(bytes.length);
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const { line, col } = positionOfByte(bytes, nul);
    return {
      ok: false,
      problem: {
        rule: "input/binary",
        message: "file is binary (contains a NUL byte), not Markdown",
        hint: "move binary files out of the intent folders, or restore the file from git",
        line,
        col,
      },
    };
  }
  if (!isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    const { line, col } = positionOfByte(bytes, bad);
    return {
      ok: false,
      problem: {
        rule: "input/invalid-utf8",
        message: `invalid UTF-8 at byte ${bad}`,
        hint: "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        line,
        col,
      },
    };
  }
  return { ok: true, text: bytes.toString("utf8"), bytes };
}

function tooLarge(size: number): ReadResult {
  return {
    ok: false,
    problem: {
      rule: "input/too-large",
      message: `file is ${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_SOURCE_BYTES / 1048576} MB`,
      hint: "split it: a spec into several capabilities, a task file into several (Task Master: tags)",
      line: 1,
      col: 1,
    },
  };
}

function positionOfByte(bytes: Buffer, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = bytes.indexOf(10); i !== -1 && i < index; i = bytes.indexOf(10, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: bytes.subarray(lineStart, index).toString("utf8").length + 1 };
}

/** Index of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const n =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    if (n > 0 && !isUtf8(b.subarray(i, i + n + 1))) return i;
    i += n + 1;
  }
  return b.length;
}
