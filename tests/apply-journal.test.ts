// A journalled `keel change apply`, killed at the crash points it passes (KEEL_TEST_CRASH_AT, see
// src/workspace/crash-point.ts), then settled by the next command: real projects, the real CLI bundle, real
// SIGKILLs, the real state database.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chainOk, events } from "./changes-support.js";
import { rng } from "./format-support.js";
import { keelAsync, type Run } from "./support/cli.js";
import { tempProjects, writeFile } from "./support/files.js";

const make = tempProjects("keel-journal-");

const requirement = (title: string, id: string, text: string) =>
  `### Requirement: ${title} {#${id}}\n${text}\n\n#### Scenario: Posting\n- **WHEN** it happens\n- **THEN** it is so\n`;
const spec = (name: string, body: string) =>
  `# ${name} Specification\n\n## Purpose\n${name}.\n\n## Requirements\n\n${body}`;

const PAYMENTS = "keel/specs/payments/spec.md";
const LEDGER = "keel/specs/ledger/spec.md";
const REFUNDS = "keel/specs/refunds/spec.md";
const CHANGE = "keel/changes/big";

/** A change that modifies one spec, adds to another and creates a third (a new capability). */
const PROJECT = {
  "keel/keel.yaml": "version: 1\n",
  [PAYMENTS]: spec(
    "Payments",
    requirement("Charges are authorised", "PAY-5", "The system SHALL authorise charges."),
  ),
  [LEDGER]: spec("Ledger", requirement("Entries balance", "LED-1", "The system SHALL balance entries.")),
  [`${CHANGE}/proposal.md`]: "# Big\n\n## Why\nThree capabilities at once.\n",
  [`${CHANGE}/specs/payments/spec.md`]: `## MODIFIED Requirements\n\n${requirement("Charges are authorised", "PAY-5", "The system SHALL authorise charges, exactly once.")}`,
  [`${CHANGE}/specs/ledger/spec.md`]: `## ADDED Requirements\n\n${requirement("Entries are dated", "LED-2", "The system SHALL date entries.")}`,
  [`${CHANGE}/specs/refunds/spec.md`]: `## ADDED Requirements\n\n${requirement("Refunds are reversible", "REF-1", "The system SHALL reverse refunds.")}`,
};

/**
 * The crash points an apply of PROJECT's change passes, in order: the journal (mid-write, renamed), each of its
 * four files (the three specs, then change.yaml: mid-write, renamed), the move into the archive, and the
 * removal of the journal after the commit.
 */
const POINTS = 12;
const FILES = 4;

const apply = (root: string, extra: NodeJS.ProcessEnv = {}) =>
  keelAsync(root, ["change", "apply", "big", "--as", "human:carol"], extra);
const crashAt = (root: string, n: number) => apply(root, { KEEL_TEST_CRASH_AT: `apply:${n}` });

/** The commands that may be the first to run after the crash: each settles the interrupted apply. */
const SETTLERS: Array<{ name: string; run: (root: string) => Promise<Run> }> = [
  { name: "change status", run: (root) => keelAsync(root, ["change", "status", "--json"]) },
  { name: "show", run: (root) => keelAsync(root, ["show", "PAY-5"]) },
  { name: "validate", run: (root) => keelAsync(root, ["validate"]) },
  { name: "change apply", run: (root) => apply(root) },
];

const read = (root: string, rel: string) => readFileSync(join(root, rel), "utf8");
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Every `.tmp` file anywhere in the project, `.keel/` included. */
function temps(root: string, rel = ""): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return temps(root, r);
    return e.name.endsWith(".tmp") ? [r] : [];
  });
}

const journals = (root: string) =>
  existsSync(join(root, ".keel/journal")) ? readdirSync(join(root, ".keel/journal")) : [];

function archiveOf(root: string): string {
  const names = readdirSync(join(root, "keel/changes/archive"));
  expect(names).toHaveLength(1);
  return `keel/changes/archive/${names[0]}`;
}

/** The change is applied exactly once: every spec holds it once, the change is archived once, audited once. */
function expectAppliedOnce(root: string): void {
  expect(count(read(root, PAYMENTS), "exactly once")).toBe(1);
  expect(count(read(root, PAYMENTS), "{#PAY-5}")).toBe(1);
  expect(count(read(root, LEDGER), "{#LED-2}")).toBe(1);
  expect(count(read(root, LEDGER), "{#LED-1}")).toBe(1);
  expect(count(read(root, REFUNDS), "{#REF-1}")).toBe(1);
  expect(existsSync(join(root, CHANGE))).toBe(false);
  expect(read(root, `${archiveOf(root)}/change.yaml`)).toMatch(/^status: applied$/m);
  const log = events(root);
  expect(log.filter((e) => e.action === "change.apply")).toHaveLength(1);
  expect(log.filter((e) => e.action === "requirement.added" && e.target === "LED-2")).toHaveLength(1);
  expect(temps(root)).toEqual([]);
  expect(journals(root)).toEqual([]);
  expect(chainOk(root)).toBe(true);
}

/** What the first command after the crash must have reported, given the crash point. */
function expectReported(settler: string, first: Run, n: number): void {
  const written = Math.max(0, Math.min(FILES, Math.floor((n - 2) / 2)));
  if (settler === "change status") {
    expect(first.code, first.stderr).toBe(0);
    const interrupted = JSON.parse(first.stdout).interrupted as Array<Record<string, unknown>>;
    if (n === 1) return void expect(interrupted).toEqual([]); // the journal itself was cut short
    expect(interrupted).toHaveLength(1);
    const [i] = interrupted as [
      { change: string; outcome: string; archived: boolean; files: Array<{ state: string }> },
    ];
    expect(i).toMatchObject({ change: "big", outcome: "finished", archived: n >= 11 });
    expect(i.files.filter((f) => f.state === "written")).toHaveLength(written);
    expect(i.files.filter((f) => f.state === "pending")).toHaveLength(FILES - written);
    return;
  }
  expect(first.code, first.stdout + first.stderr).toBe(0);
  if (n > 1) expect(first.stderr).toContain(`finished: the apply of "big" was interrupted by a crash`);
  if (n > 1) expect(first.stderr).toContain(`after ${written} of ${FILES} files`);
}

/** Runs `tasks` with at most `width` at a time (each spawns processes; the machine has few cores). */
async function pool<T>(width: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

// @verifies TRU-12
describe("a journalled multi-file apply", () => {
  it(`passes exactly ${POINTS} crash points: the last one leaves only the journal, one more is no crash`, async () => {
    const last = make(PROJECT);
    expect((await crashAt(last, POINTS)).code).toBeNull(); // killed
    expect(journals(last)).toEqual(["apply-big.json"]);
    expect(count(read(last, REFUNDS), "{#REF-1}")).toBe(1);
    const beyond = make(PROJECT);
    const r = await crashAt(beyond, POINTS + 1);
    expect(r.code, r.stderr).toBe(0);
    expectAppliedOnce(beyond);
  }, 60_000);

  it("killed at a random crash point (20 seeds), is finished by the next command, exactly once, with no temp file left", async () => {
    const seeds = Array.from({ length: 20 }, (_, seed) => seed + 1);
    const outcomes = await pool(
      2,
      seeds.map((seed) => async () => {
        const random = rng(seed * 7919);
        const n = 1 + Math.floor(random() * POINTS);
        const settler = SETTLERS[Math.floor(random() * SETTLERS.length)] as (typeof SETTLERS)[number];
        const root = make(PROJECT);
        const crash = await crashAt(root, n);
        expect(crash.code, `seed ${seed}: apply should be killed at point ${n}`).toBeNull();
        const first = await settler.run(root);
        expectReported(settler.name, first, n);
        // Cut short before the journal existed, nothing was applied: the change is simply still open.
        if (existsSync(join(root, CHANGE))) {
          expect(n).toBe(1);
          const again = await apply(root);
          expect(again.code, again.stderr).toBe(0);
        }
        expectAppliedOnce(root);
        const recovered = events(root).filter((e) => e.action === "change.apply.recovered");
        // After the commit (the last point) there is nothing left to finish but removing the journal.
        expect(recovered).toHaveLength(n === 1 || n === POINTS ? 0 : 1);
        return { n, settler: settler.name };
      }),
    );
    // The seeds reach the middle of a write, the gaps between files, and both ends.
    const points = new Set(outcomes.map((o) => o.n));
    expect(points.size).toBeGreaterThanOrEqual(8);
    expect(new Set(outcomes.map((o) => o.settler)).size).toBe(SETTLERS.length);
  }, 240_000);

  it("rolls back, and overwrites nothing, when a file the crash left applied was edited before recovery", async () => {
    const root = make(PROJECT);
    expect((await crashAt(root, 6)).code).toBeNull(); // the ledger and payments specs renamed into place
    expect(read(root, LEDGER)).toContain("{#LED-2}");
    expect(read(root, PAYMENTS)).toContain("exactly once");
    expect(existsSync(join(root, REFUNDS))).toBe(false);
    const edited = read(root, PAYMENTS).replace("Payments.\n", "Payments, edited by hand after the crash.\n");
    writeFile(root, PAYMENTS, edited);

    const r = await apply(root);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain(
      `the apply of "big" that a crash interrupted was rolled back: ${PAYMENTS} changed since, and was left as it is; nothing of "big" is applied`,
    );
    expect(read(root, PAYMENTS)).toBe(edited);
    expect(read(root, LEDGER)).toBe(PROJECT[LEDGER]);
    expect(existsSync(join(root, "keel/specs/refunds"))).toBe(false);
    expect(existsSync(join(root, `${CHANGE}/change.yaml`))).toBe(false);
    expect(existsSync(join(root, "keel/changes/archive"))).toBe(false);
    const log = events(root);
    expect(log.filter((e) => e.action === "change.apply")).toEqual([]);
    expect(log.filter((e) => e.action === "change.apply.rolled-back")).toMatchObject([
      { target: "big", data: { edited: [PAYMENTS], restored: [LEDGER] } },
    ]);
    expect(temps(root)).toEqual([]);
    expect(journals(root)).toEqual([]);

    // Applied again, the change merges with the hand edit, which stays.
    const again = await apply(root);
    expect(again.code, again.stderr).toBe(0);
    expect(read(root, PAYMENTS)).toContain("Payments, edited by hand after the crash.\n");
    expectAppliedOnce(root);
  }, 60_000);

  it("a read command that finds the edit rolls back too, and says so", async () => {
    const root = make(PROJECT);
    expect((await crashAt(root, 4)).code).toBeNull(); // the ledger spec renamed into place
    writeFile(root, LEDGER, `${read(root, LEDGER)}\n<!-- edited -->\n`);
    const r = await keelAsync(root, ["show", "PAY-5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`rolled back: the apply of "big" was interrupted by a crash`);
    expect(r.stderr).toContain(`${LEDGER} changed since and was left as it is`);
    expect(read(root, PAYMENTS)).toBe(PROJECT[PAYMENTS]);
    expect(read(root, LEDGER)).toContain("<!-- edited -->");
    expect(journals(root)).toEqual([]);
    expect(temps(root)).toEqual([]);
  }, 60_000);
});
