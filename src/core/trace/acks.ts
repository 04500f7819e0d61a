// Acknowledged links: `keel/trace-acks.yaml`, committed with the code, because a review of a suspect link is a
// shared fact (CI on a fresh clone must see it), as Doorstop keeps its review stamps in the items themselves.
// An ack holds for one link at one fingerprint of its requirement: when the requirement changes again, the
// link is suspect again.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, isSeq, LineCounter, parseDocument, stringify } from "yaml";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { projectError } from "../../workspace/errors.js";
import type { LinkKind } from "./types.js";

export const ACKS_FILE = "keel/trace-acks.yaml";

export interface Ack {
  /** `<target> <file> <kind>`: a link's identity (its line may move; what it links does not). */
  link: string;
  fingerprint: string;
  by: string;
  at: string;
  reason: string;
}

export function linkIdentity(link: { target: string; file: string; kind: LinkKind }): string {
  return `${link.target} ${link.file} ${link.kind}`;
}

const HEADER =
  "# Acknowledged trace links (`keel trace ack`): each says a person reviewed a link after its requirement\n" +
  "# changed, and why it still holds. Committed, so every clone and CI sees the review. Do not edit by hand.\n";

/** The acks, in file order; a malformed file stops with its line, as keel.yaml does. */
export function readAcks(root: string): Ack[] {
  const path = join(root, ACKS_FILE);
  if (!existsSync(path)) return [];
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(path, "utf8"), { lineCounter: lines });
  const bad = (message: string, line = 1) =>
    projectError(
      `${ACKS_FILE}:${line}: ${message}`,
      "fix or delete the entry; `keel trace ack` writes it anew",
      {
        file: ACKS_FILE,
        line,
        col: 1,
      },
    );
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw bad(`not valid YAML: ${e?.message.split("\n")[0]}`, e?.linePos?.[0]?.line ?? 1);
  }
  const root_ = doc.contents;
  if (root_ === null) return [];
  const list = isMap(root_) ? root_.get("acks", true) : null;
  if (!isSeq(list)) throw bad("expected a mapping with an `acks:` list");
  const out: Ack[] = [];
  for (const item of list.items) {
    const at = (item as { range?: [number, number, number] } | null)?.range?.[0];
    const line = at === undefined ? 1 : lines.linePos(at).line;
    if (!isMap(item)) throw bad("each ack must be a mapping", line);
    const field = (k: string) => {
      const v = item.get(k);
      if (typeof v !== "string" || v.trim() === "") throw bad(`ack needs a non-empty \`${k}\``, line);
      return v;
    };
    out.push({
      link: field("link"),
      fingerprint: field("fingerprint"),
      by: field("by"),
      at: field("at"),
      reason: field("reason"),
    });
  }
  return out;
}

/** Adds acks, replacing an earlier ack of the same link; sorted by link, so the file diffs well. */
export function writeAcks(root: string, existing: readonly Ack[], added: readonly Ack[]): void {
  const byLink = new Map(existing.map((a) => [a.link, a]));
  for (const a of added) byLink.set(a.link, a);
  const acks = [...byLink.values()].sort((a, b) => (a.link < b.link ? -1 : a.link > b.link ? 1 : 0));
  writeFileAtomic(join(root, ACKS_FILE), HEADER + stringify({ acks }, { lineWidth: 0 }));
}
