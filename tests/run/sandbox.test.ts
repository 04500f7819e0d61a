// The agent's sandbox, with real bubblewrap and real child processes: the worktree is the one writable place, the
// main checkout, its git metadata and Keel's state are out of reach, the network is off unless asked for, and a
// killed worker takes its agent with it.
// @verifies RUN-10
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { openSandbox, SANDBOX_UNAVAILABLE, type SandboxRequest } from "../../src/run/sandbox.js";
import { EXIT, KeelError } from "../../src/workspace/errors.js";
import { runProcess } from "../support/cli.js";
import { tempProjects, treeDigests, writeFile, writeFiles } from "../support/files.js";
import { commitAll, git, gitInit } from "../support/git.js";
import { bwrapProblem } from "../support/sandbox.js";

const made = tempProjects("keel-sandbox-");

const PROBLEM = bwrapProblem();
if (PROBLEM) console.log(`[sandbox tests] bubblewrap is not usable here (${PROBLEM}): sandbox runs skipped`);

/** A project with a commit, its worktree under `.keel/run/worktrees/`, a state file, a sibling folder, a scratch. */
function layout() {
  const top = made({
    "repo/README.md": "# main checkout\n",
    "repo/src/app.ts": "export const app = 1;\n",
    "sibling/notes.md": "a folder beside the project\n",
    "scratch/.keep": "",
  });
  const repo = join(top, "repo");
  gitInit(repo);
  writeFile(repo, ".gitignore", ".keel/\n.env\n");
  commitAll(repo, "initial");
  writeFile(repo, ".keel/state.db", "the state database\n");
  const worktree = join(repo, ".keel", "run", "worktrees", "t1");
  git(repo, "worktree", "add", "-q", "-b", "task/t1", worktree);
  const request = (argv: string[], network = false): SandboxRequest => ({
    argv,
    cwd: worktree,
    writable: [join(top, "scratch")],
    hidden: [join(repo, ".keel")],
    readOnly: [repo],
    network,
  });
  return { top, repo, worktree, request };
}

function run(req: SandboxRequest) {
  const argv = openSandbox("bwrap").wrap(req);
  return runProcess(argv[0] as string, argv.slice(1), req.cwd, process.env);
}

/** A shell line that reports whether `cmd` worked: `ok <label>` or `refused <label>`. */
const attempt = (label: string, cmd: string) =>
  `if ${cmd} 2>/dev/null; then echo "ok ${label}"; else echo "refused ${label}"; fi`;

describe.skipIf(PROBLEM !== null)("a sandboxed agent", () => {
  it("writes in its worktree and scratch folder only: the main checkout, a sibling and .git stay unchanged", async () => {
    const { top, repo, request } = layout();
    const before = treeDigests(repo);
    const sibling = treeDigests(join(top, "sibling"));
    const hostTmp = join("/tmp", `keel-sandbox-${process.pid}-${Date.now()}`);
    const script = [
      attempt("worktree", "echo new > new-file.ts"),
      attempt("scratch", `echo note > ${join(top, "scratch", "note")}`),
      attempt("read-main", `grep -q "main checkout" ${join(repo, "README.md")}`),
      attempt("main-checkout", `echo evil > ${join(repo, "src", "app.ts")}`),
      attempt("sibling", `echo evil >> ${join(top, "sibling", "notes.md")}`),
      attempt("git-dir", `echo evil > ${join(repo, ".git", "refs", "heads", "evil")}`),
      attempt("git-branch", "git branch evil"),
      attempt("private-tmp", `echo scratch > ${hostTmp}`),
      attempt("remount", "mount -o remount,rw /"),
      attempt("main-after-remount", `echo evil > ${join(repo, "README.md")}`),
    ].join("\n");
    const r = await run(request(["sh", "-c", script]));
    expect(r.stdout.trim().split("\n")).toEqual([
      "ok worktree",
      "ok scratch",
      "ok read-main",
      "refused main-checkout",
      "refused sibling",
      "refused git-dir",
      "refused git-branch",
      "ok private-tmp",
      "refused remount",
      "refused main-after-remount",
    ]);
    expect(treeDigests(repo)).toEqual(before);
    expect(existsSync(hostTmp)).toBe(false);
    expect(treeDigests(join(top, "sibling"))).toEqual(sibling);
    expect(git(repo, "branch", "--list").split("\n").filter(Boolean)).toHaveLength(2);
    expect(readFileSync(join(request([]).cwd, "new-file.ts"), "utf8")).toBe("new\n");
    expect(readFileSync(join(top, "scratch", "note"), "utf8")).toBe("note\n");
  });

  it("sees a hidden folder as empty and read-only, with the worktree inside it still there; a hidden file unreadable", async () => {
    const { repo, request } = layout();
    const keel = join(repo, ".keel");
    const secrets = join(repo, ".env");
    writeFile(repo, ".env", "API_KEY=hunter2\n");
    const script = [
      `ls -A ${keel}`,
      attempt("read-state", `cat ${join(keel, "state.db")}`),
      attempt("write-hidden", `echo x > ${join(keel, "planted")}`),
      attempt("git-status", "git status --short"),
      attempt("read-hidden-file", `cat ${secrets}`),
      attempt("write-hidden-file", `echo x > ${secrets}`),
    ].join("\n");
    const req = request(["sh", "-c", script]);
    const r = await run({ ...req, hidden: [...req.hidden, secrets] });
    expect(r.stdout.trim().split("\n")).toEqual([
      "run",
      "refused read-state",
      "refused write-hidden",
      "ok git-status",
      "refused read-hidden-file",
      "refused write-hidden-file",
    ]);
    expect(readdirSync(keel).sort()).toEqual(["run", "state.db"]);
    expect(readFileSync(secrets, "utf8")).toContain("hunter2");
  });

  describe("the network", () => {
    let server: Server;
    let port: number;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections++;
        socket.end("hello\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    afterEach(() => {
      connections = 0;
    });

    /** A node one-liner that connects to the test's server and says whether it got there. */
    const connect = () => [
      process.execPath,
      "-e",
      `require("net").connect(${port}, "127.0.0.1").on("data", (d) => { console.log("got " + d); process.exit(0); })` +
        `.on("error", (e) => { console.log("error " + e.code); process.exit(0); });`,
    ];

    it("is off when the agent does not need it: even the host's loopback is out of reach", async () => {
      const { request } = layout();
      const r = await run(request(connect(), false));
      expect(r.stdout.trim()).toBe("error ECONNREFUSED");
      expect(connections).toBe(0);
    });

    it("is on for an agent that needs it", async () => {
      const { request } = layout();
      const r = await run(request(connect(), true));
      expect(r.stdout.trim()).toBe("got hello");
      expect(connections).toBe(1);
    });
  });

  describe("processes", () => {
    it("a killed worker takes its sandboxed agent with it", async () => {
      const { top, request } = layout();
      const argv = openSandbox("bwrap").wrap(request(["sleep", "600"]));
      const worker = join(top, "worker.mjs");
      writeFile(
        top,
        "worker.mjs",
        `import { spawn } from "node:child_process";
const argv = JSON.parse(process.argv[2]);
const agent = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
console.log(agent.pid);
`,
      );
      const parent = spawn(process.execPath, [worker, JSON.stringify(argv)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise((resolve) => parent.on("exit", resolve));
      let out = "";
      parent.stdout.on("data", (d) => {
        out += d;
      });
      const sleeper = await vi.waitFor(
        () => {
          if (!out.endsWith("\n")) throw new Error("the worker has not said its agent's pid yet");
          const found = descendants(Number(out)).find((p) => p.comm === "sleep");
          if (!found) throw new Error("the sandboxed sleep has not started yet");
          return found;
        },
        { timeout: 10_000, interval: 10 },
      );
      onTestFinished(() => killLeft([sleeper]));
      parent.kill("SIGKILL");
      await exited;
      await vi.waitFor(
        () => {
          if (alive(sleeper.pid))
            throw new Error(`the sandboxed sleep (pid ${sleeper.pid}) outlived its worker`);
        },
        { timeout: 10_000, interval: 10 },
      );
    });

    it("stopping the spawned process (a stalled agent) ends everything the agent started", async () => {
      const { request } = layout();
      const argv = openSandbox("bwrap").wrap(request(["sh", "-c", "sleep 600 & sleep 600 & wait"]));
      // As src/run/agent-process.ts does: its own process group, stopped by signalling the group.
      const agent = spawn(argv[0] as string, argv.slice(1), { stdio: "ignore", detached: true });
      const exited = new Promise((resolve) => agent.on("exit", resolve));
      const sleepers = await vi.waitFor(
        () => {
          const found = descendants(agent.pid as number).filter((p) => p.comm === "sleep");
          if (found.length < 2) throw new Error("the sandboxed sleeps have not started yet");
          return found;
        },
        { timeout: 10_000, interval: 10 },
      );
      onTestFinished(() => killLeft(sleepers));
      process.kill(-(agent.pid as number), "SIGTERM");
      await exited;
      await vi.waitFor(
        () => {
          const left = sleepers.filter((p) => alive(p.pid));
          if (left.length > 0) throw new Error(`still running: ${left.map((p) => p.pid).join(", ")}`);
        },
        { timeout: 10_000, interval: 10 },
      );
    });
  });
});

describe("choosing the sandbox", () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('"none" runs the agent as it is', () => {
    const req: SandboxRequest = {
      argv: ["claude", "-p", "x y"],
      cwd: "/w",
      writable: [],
      hidden: [],
      network: false,
    };
    const none = openSandbox("none");
    expect(none.kind).toBe("none");
    expect(none.wrap(req)).toEqual(["claude", "-p", "x y"]);
  });

  it.each(["bwrap", "auto"] as const)(
    "%s without bubblewrap on PATH is an error saying how to go on",
    (mode) => {
      process.env.PATH = made({ "bin/.keep": "" });
      const e = catchError(() => openSandbox(mode));
      expect(e.code).toBe(SANDBOX_UNAVAILABLE);
      expect(e.exitCode).toBe(EXIT.usage);
      expect(e.message).toBe("cannot sandbox the agent: bubblewrap (`bwrap`) is not on PATH");
      expect(e.hint).toContain("apt-get install bubblewrap");
      expect(e.hint).toContain("--sandbox none");
    },
  );

  it("a bubblewrap that fails its probe is an error carrying what it said; the probe runs once", () => {
    const bin = join(made({}), "bin");
    mkdirSync(bin);
    const probes = join(bin, "probes");
    writeFiles(bin, {
      bwrap: `#!/bin/sh\necho probe >> '${probes}'\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n`,
    });
    chmodSync(join(bin, "bwrap"), 0o755);
    process.env.PATH = bin;
    const e = catchError(() => openSandbox("auto"));
    expect(e.code).toBe(SANDBOX_UNAVAILABLE);
    expect(e.message).toBe(
      `cannot sandbox the agent: bubblewrap (${join(bin, "bwrap")}) does not work here: bwrap: setting up uid map: Permission denied`,
    );
    expect(e.hint).toContain("--sandbox none");
    expect(catchError(() => openSandbox("bwrap")).message).toBe(e.message);
    expect(readFileSync(probes, "utf8")).toBe("probe\n");
  });
});

function catchError(f: () => unknown): KeelError {
  try {
    f();
  } catch (e) {
    if (e instanceof KeelError) return e;
    throw e;
  }
  throw new Error("expected a KeelError");
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
}

/** One process from /proc/<pid>/stat, or null when it is gone. `comm` may hold spaces and parentheses. */
function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const [state, ppid] = stat.slice(close + 2).split(" ");
    return {
      pid,
      ppid: Number(ppid),
      comm: stat.slice(stat.indexOf("(") + 1, close),
      state: state as string,
    };
  } catch {
    return null;
  }
}

/** A failed test must not leave its sandboxed sleeps behind for ten minutes. */
function killLeft(procs: Proc[]): void {
  for (const p of procs) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
}

/** A zombie has ended: only its exit status is left for a parent to collect. */
function alive(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state !== "Z";
}

function descendants(root: number): Proc[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is Proc => p !== null);
  const found: Proc[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
  }
  return found;
}
