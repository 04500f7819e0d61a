// Task state written back into a toolkit's own task files, through the real CLI: Task Master's tasks.json gets the
// one status value of the task changed and nothing else; Beads' issues.jsonl is never written (bd owns it), the
// state stays in Keel's own store.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonOut, keel } from "./support/cli.js";
import { changedLines, LAYOUT_FIXTURES, layoutFixture, tempProjects, treeDigests } from "./support/files.js";

const _FIXTURES = LAYOUT_FIXTURES;
const TAGGED_FILE = ".taskmaster/tasks/tasks.json";
const LEGACY_FILE = "tasks/tasks.json";
const BEADS_FILE = ".beads/issues.jsonl";

const project = tempProjects("keel-layouts-writeback-");

function claim(root: string, key: string, as = "agent:a1"): number {
  return jsonOut(keel(root, "tasks", "claim", key, "--as", as, "--json")).claim.token;
}

/** The `"status": …` line of the task titled `title`, found in the text: the first status line after its title. */
function statusLine(text: string, title: string): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.includes(`"title": ${JSON.stringify(title)}`));
  const line = lines.slice(at).find((l) => /^\s*"status": /.test(l));
  if (at < 0 || line === undefined) throw new Error(`no status line for ${title}`);
  return line;
}

interface RawTask {
  id: number;
  title: string;
  status?: string;
  subtasks?: RawTask[];
}
type RawTagged = Record<string, { tasks: RawTask[] }>;

/** The raw task (or subtask, `3.3`) of a parsed tasks.json tag, to set the expected status on. */
function rawTask(tasks: RawTask[], id: string): RawTask {
  const [top, sub] = id.split(".").map(Number);
  const task = tasks.find((t) => t.id === top) as RawTask;
  return sub === undefined ? task : (task.subtasks?.find((s) => s.id === sub) as RawTask);
}

// @verifies LAY-5, LAY-6
describe("task state written back into a toolkit's files", () => {
  it("Task Master: done and block change only their task's status value; unknown fields survive", () => {
    const root = layoutFixture(project, "taskmaster");
    const file = join(root, TAGGED_FILE);
    const original = readFileSync(file, "utf8");
    const raw = JSON.parse(original) as RawTagged;
    const email = rawTask(raw.master?.tasks ?? [], "5");
    const expose = rawTask(raw.master?.tasks ?? [], "3.3");
    expect([email.status, expose.status]).toEqual(["pending", "pending"]);

    const done = jsonOut(
      keel(root, "tasks", "done", "master/5", "--token", String(claim(root, "master/5")), "--json"),
    );
    // testStrategy is prose, so the task has no gate to pass: nothing is run as a shell command.
    expect(done.gates.gates).toEqual([]);
    const afterDone = readFileSync(file, "utf8");
    const emailLine = statusLine(original, email.title);
    expect(changedLines(original, afterDone)).toEqual({
      removed: [emailLine],
      added: [emailLine.replace('"pending"', '"done"')],
    });

    const token = claim(root, "master/3.3");
    const blocked = keel(
      root,
      "tasks",
      "block",
      "master/3.3",
      "--token",
      String(token),
      "--reason",
      "needs a DBA",
    );
    expect(blocked.code).toBe(0);
    const final = readFileSync(file, "utf8");
    const exposeLine = statusLine(original, expose.title);
    // Subtask 3.3 is written above task 5, and the diff lists lines in file order.
    expect(changedLines(original, final)).toEqual({
      removed: [exposeLine, emailLine],
      added: [exposeLine.replace('"pending"', '"blocked"'), emailLine.replace('"pending"', '"done"')],
    });
    // Every other value, including fields Keel does not read (x-owner, metadata, acceptanceCriteria…), is as it was.
    email.status = "done";
    expose.status = "blocked";
    expect(JSON.parse(final)).toEqual(raw);
    const shown = jsonOut(keel(root, "tasks", "show", "master/3.3", "--json")).task;
    expect(shown.status).toBe("blocked");
  });

  it("Task Master: a claim, a heartbeat and a release write nothing (a lease is not a lasting status)", () => {
    const root = layoutFixture(project, "taskmaster");
    const before = treeDigests(root);
    const token = String(claim(root, "feature-billing/3"));
    expect(keel(root, "tasks", "heartbeat", "feature-billing/3", "--token", token).code).toBe(0);
    expect(keel(root, "tasks", "release", "feature-billing/3", "--token", token).code).toBe(0);
    expect(treeDigests(root)).toEqual(before);
  });

  it("Task Master: the file is re-read under the lock, so an edit made after the claim is kept", () => {
    const root = layoutFixture(project, "taskmaster");
    const file = join(root, TAGGED_FILE);
    const token = claim(root, "master/5");
    // Task Master (or a person) edits another task while the claim is held.
    const edited = readFileSync(file, "utf8").replace(
      '"title": "Set up the invoicing service repository"',
      '"title": "Set up the invoicing repository"',
    );
    writeFileSync(file, edited);
    expect(keel(root, "tasks", "done", "master/5", "--token", String(token)).code).toBe(0);
    const line = statusLine(edited, "Email invoices to customers");
    expect(changedLines(edited, readFileSync(file, "utf8"))).toEqual({
      removed: [line],
      added: [line.replace('"pending"', '"done"')],
    });
  });

  it("Task Master: a task whose ID is written twice is refused, nothing is written, the task stays claimed", () => {
    const root = layoutFixture(project, "taskmaster");
    const file = join(root, TAGGED_FILE);
    const raw = JSON.parse(readFileSync(file, "utf8")) as RawTagged;
    const billing = raw["feature-billing"] as { tasks: RawTask[] };
    billing.tasks.push({ ...rawTask(billing.tasks, "3"), title: "Send reminders, again" });
    const twice = `${JSON.stringify(raw, null, 2)}\n`;
    writeFileSync(file, twice);
    for (const key of ["feature-billing/3", "feature-billing/3@2"]) {
      const token = String(claim(root, key));
      const done = keel(root, "tasks", "done", key, "--token", token);
      expect(done.code).toBe(1);
      expect(done.stderr).toContain(`task ${key} cannot be written into ${TAGGED_FILE}`);
      expect(done.stderr).toContain("appears 2 times");
      expect(readFileSync(file, "utf8")).toBe(twice);
      // The done was rolled back with the refused write: the claim still holds and its token still works.
      expect(keel(root, "tasks", "heartbeat", key, "--token", token).code).toBe(0);
    }
  });

  it("Task Master's flat file: done is written into tasks/tasks.json, tag master", () => {
    const root = layoutFixture(project, "taskmaster-legacy");
    const file = join(root, LEGACY_FILE);
    const original = readFileSync(file, "utf8");
    const raw = JSON.parse(original) as { tasks: RawTask[] };
    const open = raw.tasks.find((t) => t.status === "pending" && (t.subtasks ?? []).length === 0) as RawTask;
    const key = `master/${open.id}`;
    expect(keel(root, "tasks", "done", key, "--token", String(claim(root, key))).code).toBe(0);
    const line = statusLine(original, open.title);
    expect(changedLines(original, readFileSync(file, "utf8"))).toEqual({
      removed: [line],
      added: [line.replace('"pending"', '"done"')],
    });
  });

  it("Beads: claim, done and block live in Keel's state; issues.jsonl and every other file stay byte-identical", () => {
    const root = layoutFixture(project, "beads");
    const before = treeDigests(root);
    const issues = readFileSync(join(root, BEADS_FILE), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { id: string; status?: string });
    // Two open issues without children (a parent is done when its children are).
    const [toFinish, toBlock] = ["bd-c3d4", "bd-e5f6"];
    for (const id of [toFinish, toBlock]) expect(issues.find((i) => i.id === id)?.status).toBe("open");

    const done = jsonOut(
      keel(
        root,
        "tasks",
        "done",
        `beads/${toFinish}`,
        "--token",
        String(claim(root, `beads/${toFinish}`)),
        "--json",
      ),
    );
    expect(done.done.status).toBe("done");
    const token = String(claim(root, `beads/${toBlock}`));
    expect(
      keel(root, "tasks", "block", `beads/${toBlock}`, "--token", token, "--reason", "waits on bd").code,
    ).toBe(0);

    expect(treeDigests(root)).toEqual(before);
    // Keel's state says so: both tasks are held (closed by a claim), not ready, and not claimable again.
    const listed = new Map(
      (
        jsonOut(keel(root, "tasks", "list", "--json")).tasks as Array<{
          key: string;
          ready: boolean;
          blockers: string[];
        }>
      ).map((t) => [t.key, t]),
    );
    for (const id of [toFinish, toBlock]) {
      expect(listed.get(`beads/${id}`)).toMatchObject({
        ready: false,
        blockers: expect.arrayContaining(["claimed"]),
      });
      const again = keel(root, "tasks", "claim", `beads/${id}`, "--as", "agent:a2");
      expect(again.code).toBe(6);
    }
  });

  it("Beads: an issue Keel marked done counts as done, so what it blocks becomes ready", () => {
    const issue = (id: string, deps: string[]) =>
      JSON.stringify({
        id,
        title: `Issue ${id}`,
        status: "open",
        priority: 2,
        issue_type: "task",
        dependencies: deps.map((d) => ({ issue_id: id, depends_on_id: d, type: "blocks" })),
      });
    const jsonl = `${[issue("bd-a1", []), issue("bd-b2", ["bd-a1"])].join("\n")}\n`;
    const root = project({ ".beads/issues.jsonl": jsonl });
    const readyKeys = () =>
      (jsonOut(keel(root, "tasks", "ready", "--json")).ready as Array<{ key: string }>).map((t) => t.key);
    expect(readyKeys()).toEqual(["beads/bd-a1"]);
    const token = String(claim(root, "beads/bd-a1"));
    expect(keel(root, "tasks", "done", "beads/bd-a1", "--token", token).code).toBe(0);
    expect(readyKeys()).toEqual(["beads/bd-b2"]);
    const shown = jsonOut(keel(root, "tasks", "show", "beads/bd-a1", "--json"));
    expect(shown.task.status).toBe("done");
    expect(readFileSync(join(root, ".beads/issues.jsonl"), "utf8")).toBe(jsonl);
  });
});
