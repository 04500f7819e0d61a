// Drift on the live stream: after edits to intent, the trace is judged again and every link that became
// suspect (its requirement changed since the link was made or acknowledged) is sent as `drift.found`; one
// that stopped being suspect (acknowledged, or the text restored) as `drift.resolved`. The first judgement
// is the baseline. Every judgement ends with `drift.checked` (how many links are suspect now), so a client
// can show the count live. Judgements never overlap: edits during one are folded into one more.
// @req SRF-14
import { traceProject } from "../trace/project.js";
import type { JudgedLink } from "../trace/state.js";
import type { LiveEvent } from "./events.js";

interface Suspect {
  requirement: string;
  link: string;
  file: string;
  line: number;
  kind: string;
  reason: string;
}

async function suspects(root: string): Promise<Map<string, Suspect>> {
  const { report } = await traceProject(root, true);
  const out = new Map<string, Suspect>();
  for (const r of report.requirements) {
    const links: JudgedLink[] = [...r.implementations, ...r.tests, ...r.docs, ...r.commits];
    for (const l of links)
      if (l.state === "suspect")
        out.set(l.id, {
          requirement: r.id,
          link: l.id,
          file: l.file,
          line: l.line,
          kind: l.kind,
          reason: l.reason,
        });
  }
  return out;
}

export class DriftWatch {
  private known: Map<string, Suspect> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly emit: (e: LiveEvent) => void,
  ) {}

  /** Takes the baseline; edits made meanwhile are in it. */
  start(): void {
    this.changed();
  }

  /** Intent was edited: judge the trace again (now, or right after the judgement under way). */
  changed(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.judge().finally(() => {
      this.running = null;
      if (this.again && !this.closed) {
        this.again = false;
        this.changed();
      }
    });
  }

  close(): void {
    this.closed = true;
  }

  private async judge(): Promise<void> {
    let now: Map<string, Suspect>;
    try {
      now = await suspects(this.root);
    } catch {
      return; // a spec saved half-way does not parse: the next save judges again
    }
    const before = this.known ?? now;
    this.known = now;
    if (this.closed) return;
    const at = new Date().toISOString();
    for (const [id, s] of now) if (!before.has(id)) this.emit({ type: "drift.found", data: { ...s, at } });
    for (const [id, s] of before)
      if (!now.has(id))
        this.emit({
          type: "drift.resolved",
          data: { requirement: s.requirement, link: s.link, file: s.file, line: s.line, kind: s.kind, at },
        });
    this.emit({ type: "drift.checked", data: { suspect: now.size, at } });
  }
}
