// Per-file analysis: read, parse, run the file-local rules, summarise. Runs on the main thread and, for
// large cold runs, in one worker thread as well (two cores on the machines we target), so it depends on
// nothing but its arguments.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { parseConstitutionOf, parseSpecOf } from "../../format/layouts/index.js";
import { contentHash } from "../../model/fingerprint.js";
import { effectiveStatus } from "../../model/status.js";
import type { Finding, Layout } from "../../model/types.js";
import type { IndexedFile } from "../../store/index-db.js";
import { RACY_WINDOW_MS, type SourceEntry } from "../../workspace/discover.js";
import { readSource } from "../../workspace/read.js";
import { readsRequirementHeadings, unreadHeadings } from "../analyze/unread.js";
import { untrustedBecause } from "../scan/index.js";
import { clarityRules, vagueTermMatcher } from "./clarity.js";
import { fromDiagnostic } from "./finding.js";
import { type Clarification, clarificationsOf, layoutSpecRules } from "./layout-rules.js";
import {
  requirementParts,
  type SecurityScanner,
  type SecuritySettings,
  scanFileFindings,
  securityScanner,
} from "./security-rules.js";
import type { RequirementSummary } from "./xref.js";

/** Set by the bundler: the worker entry, relative to the chunk this module is bundled into. */
declare const KEEL_VALIDATE_WORKER: string | undefined;

/** Below this many files to parse, a worker's start-up (~40 ms) costs more than it saves. */
const PARALLEL_THRESHOLD = 400;

export interface SpecPayload {
  kind: "spec";
  capability: string;
  layout: Layout;
  findings: Finding[];
  requirements: RequirementSummary[];
  references: Array<{ id: string; line: number; col: number }>;
  /** Spec Kit: the `[NEEDS CLARIFICATION]` markers, for the rule that needs the feature's plan. */
  clarifications?: Clarification[];
  /** Lines of requirement-like headings the layout does not read (core/analyze/unread.ts), for `keel status`. */
  unread?: number[];
}

export interface OtherPayload {
  kind: "other";
  findings: Finding[];
}

export type Payload = SpecPayload | OtherPayload;

export interface WorkItem {
  entry: SourceEntry;
  hit: IndexedFile | undefined;
}

export interface WorkResult {
  entry: SourceEntry;
  /** JSON of the payload: what the index stores, and flat strings that pin no file text. */
  payload: string;
  /** Content hash, or "" when it was not needed (see analyseOne). */
  hash: string;
  parsed: boolean;
}

/** What the file-local rules are configured with: plain data, handed to the worker thread as it is. */
export interface FileRuleSettings {
  vagueTerms: readonly string[];
  security: SecuritySettings;
}

/** Reports files analysed so far of the total, as the work goes (for a progress line; it must be cheap). */
export type OnProgress = (done: number, total: number) => void;

/** Analyses every item, sharing the work with a worker thread when there is enough of it. */
export function analyseEntries(
  work: WorkItem[],
  now: number,
  settings: FileRuleSettings,
  onProgress?: OnProgress,
): WorkResult[] {
  const total = work.length;
  const workerUrl = workerEntry();
  if (!workerUrl || work.length < PARALLEL_THRESHOLD)
    return analyseChunk(work, now, settings, onProgress && ((done) => onProgress(done, total)));
  const half = work.length >> 1;
  // [0]: set to 1 when the worker is done; [1]: files the worker has analysed so far.
  const signal = new Int32Array(new SharedArrayBuffer(8));
  const theirs = () => Atomics.load(signal, 1);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerUrl, {
    workerData: { work: work.slice(half), now, settings, signal, port: port2 },
    transferList: [port2],
  });
  worker.unref();
  const mine = analyseChunk(
    work.slice(0, half),
    now,
    settings,
    onProgress && ((done) => onProgress(done + theirs(), total)),
  );
  // Block until the worker is done: keeps validation synchronous for every caller. Progress is told meanwhile.
  while (Atomics.wait(signal, 0, 0, onProgress ? 100 : undefined) === "timed-out")
    onProgress?.(half + theirs(), total);
  const message = receiveMessageOnPort(port1)?.message as
    | { results?: WorkResult[]; error?: string }
    | undefined;
  port1.close();
  void worker.terminate();
  if (!message?.results) {
    // The worker failed (it reports why); analyse its share here rather than lose it.
    return [...mine, ...analyseChunk(work.slice(half), now, settings)];
  }
  return [...mine, ...message.results];
}

/** Analyses `work` in order; `onEach` is told how many are done after each. */
export function analyseChunk(
  work: WorkItem[],
  now: number,
  settings: FileRuleSettings,
  onEach?: (done: number) => void,
): WorkResult[] {
  const rules: FileRules = {
    vague: vagueTermMatcher(settings.vagueTerms),
    security: securityScanner(settings.security),
  };
  return work.map(({ entry, hit }, i) => {
    const result = analyseOne(entry, hit, now, rules);
    onEach?.(i + 1);
    return result;
  });
}

interface FileRules {
  vague: ReturnType<typeof vagueTermMatcher>;
  security: SecurityScanner;
}

function analyseOne(
  entry: SourceEntry,
  hit: IndexedFile | undefined,
  now: number,
  rules: FileRules,
): WorkResult {
  const read = readSource(entry.abs, entry.size);
  // Hashing is needed only to compare with a stored row, or to vouch for a file whose mtime is too
  // recent to trust next time; a cold run over settled files skips it ("" = not hashed).
  const needHash = hit !== undefined || entry.mtimeMs >= now - RACY_WINDOW_MS;
  const hash = !read.ok ? `unreadable:${read.problem.rule}` : needHash ? contentHash(read.bytes) : "";
  if (hit && hit.hash !== "" && hit.hash === hash)
    return { entry, payload: hit.payload, hash, parsed: false };
  const payload: Payload = read.ok
    ? analyseFile(entry, read.text, rules)
    : {
        kind: "other",
        findings: [
          {
            rule: read.problem.rule,
            severity: "error",
            file: entry.rel,
            line: read.problem.line,
            col: read.problem.col,
            message: read.problem.message,
            hint: read.problem.hint,
          },
        ],
      };
  return { entry, payload: JSON.stringify(payload), hash, parsed: true };
}

function workerEntry(): URL | null {
  if (typeof KEEL_VALIDATE_WORKER !== "string" || process.env.KEEL_WORKERS === "0") return null;
  const url = new URL(KEEL_VALIDATE_WORKER, import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

function analyseFile(entry: SourceEntry, text: string, rules: FileRules): Payload {
  if (entry.role === "constitution") {
    const { diagnostics } = parseConstitutionOf(entry.layout, text, entry.rel);
    return { kind: "other", findings: diagnostics.map((d) => fromDiagnostic(d)) };
  }
  const capability = entry.capability as string;
  const { spec, diagnostics, scan } = parseSpecOf(entry.layout, text, entry.rel, capability, {
    fingerprints: false,
  });
  const findings = [
    ...diagnostics.map((d) => fromDiagnostic(d, capability)),
    ...layoutSpecRules(spec),
    ...clarityRules(spec, scan, rules.vague),
    // @req TRU-1, TRU-3
    ...scanFileFindings(
      {
        text,
        file: entry.rel,
        untrusted: untrustedBecause({}, rules.security.policy),
        target: capability,
        parts: requirementParts(spec.requirements, rules.security.policy, (r) => effectiveStatus(r, spec)),
        lines: scan,
      },
      rules.security,
    ),
  ];
  const payload: SpecPayload = {
    kind: "spec",
    capability,
    layout: entry.layout,
    findings,
    requirements: spec.requirements.map((r) => ({
      id: r.id,
      title: r.title,
      explicit: r.explicitId,
      line: r.headingSpan.start.line,
      col: r.headingSpan.start.col,
      // Effective status: the marker line's, else the spec's own (front matter).
      status: effectiveStatus(r, spec),
    })),
    references: spec.references.map((r) => ({ id: r.id, line: r.span.start.line, col: r.span.start.col })),
  };
  const clarifications = clarificationsOf(spec);
  if (clarifications && clarifications.length > 0) payload.clarifications = clarifications;
  if (readsRequirementHeadings(entry.layout)) {
    const unread = unreadHeadings(text, entry.rel, "spec").map((u) => u.line);
    if (unread.length > 0) payload.unread = unread;
  }
  return payload;
}
