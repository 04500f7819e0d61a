// Trace links as the scanner finds them, before any judgement of their state (core/trace/state.ts does that).
// A link says: this place in the repository implements, verifies or documents that requirement (or task).

/** implements: code that carries `@req ID`; verifies: a test (`@verifies ID`, or a test name with the ID);
 *  documents: a Markdown page outside keel/ naming the ID; commit: a commit trailer (`Implements: ID`). */
export type LinkKind = "implements" | "verifies" | "documents" | "commit";

/** How the link was written, for the docs and for debugging a surprising link. */
export type LinkSource = "annotation" | "test-name" | "markdown" | "trailer";

export interface RawLink {
  kind: LinkKind;
  source: LinkSource;
  /** The requirement ID (or, for `Task:` trailers, the task ID) exactly as written. */
  target: string;
  /** `req` for requirement IDs, `task` for task IDs (`Task: T003` trailers, `@task` annotations). */
  targetType: "req" | "task";
  /** Project-relative `/`-separated path; for a commit trailer, `commit:<full sha>`. */
  file: string;
  /** 1-based; 0 for a commit trailer. */
  line: number;
  col: number;
  /** For a commit trailer: which one (`Implements:`, `Verifies:` or `Task:`). */
  trailer?: "Implements" | "Verifies" | "Task";
  /** With keel.yaml `roots:`: the spec root owning the file (null: the top level); absent without roots. */
  root?: string | null;
}

/** A file the scanner could not read as text, or read only in part. */
export interface ScanProblem {
  file: string;
  line: number;
  col: number;
  rule: "trace/binary" | "trace/invalid-utf8" | "trace/long-line" | "trace/too-large" | "trace/unreadable";
  severity: "warning" | "info";
  message: string;
}

export interface ScanResult {
  links: RawLink[];
  problems: ScanProblem[];
  /** Files looked at (after ignore rules), and how many held at least one link. */
  files: number;
  filesWithLinks: number;
  /** Worker threads the scan used beside the calling one; 0 when it ran on the calling thread alone. */
  workers?: number;
  /** Files answered from the scan cache (`.keel/trace-scan.cache`) without being read. */
  cachedFiles?: number;
}
