// `keel daemon`: a long-lived process that answers the CLI's read commands for one project. It runs them with the
// same code as the CLI (cli/dispatch.ts), one at a time, in the client's folder and environment, with the client's
// colour choice; it is fast because it stays warm: code loaded, a watcher vouching that nothing changed
// (workspace/tree-watch.ts), and the last walk and validation result kept in memory.
//
// Security: the socket and the record naming it are owner-only (0600), and every request carries the random
// token from the record, compared in constant time: no other local user can talk to the daemon.
// @req DMN-1, DMN-3, DMN-4
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { BUILD_ID } from "../../model/version.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type TreeWatcher, watchProject } from "../../workspace/tree-watch.js";
import { runCommandLine } from "../dispatch.js";
import type { Io } from "../output.js";
import {
  DAEMON_FILE,
  type DaemonAnswer,
  type DaemonHeader,
  type DaemonRecord,
  type DaemonRequest,
  forwardable,
  rootFlag,
} from "./protocol.js";

/** A unix socket path longer than this does not fit in sockaddr_un (108 bytes, with room to spare). */
const MAX_SOCKET_PATH = 100;
/** A request line larger than this is not a command line: the connection is dropped. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface Daemon {
  record: DaemonRecord;
  watcher: TreeWatcher;
  close(): Promise<void>;
}

export async function startDaemon(root: string): Promise<Daemon> {
  const watcher = watchProject(root);
  if (!watcher)
    throw new KeelError("cannot watch the project", EXIT.unreadable, "check that .keel/ is writable");
  const socketPath = socketPathFor(root);
  rmSync(socketPath, { force: true }); // a socket left by a daemon that was killed
  const token = randomBytes(32).toString("hex");
  let served = 0;
  let queue: Promise<void> = Promise.resolve();
  const server = createServer((socket) => {
    readRequest(socket, (request) => {
      if (!sameToken(request.token, token)) return void socket.destroy();
      socket.write('{"ack":true}\n');
      if (request.ping === true) {
        const pong = {
          served,
          folders: watcher.folders,
          events: watcher.generation(root),
          rss: process.memoryUsage.rss(),
        };
        return void sendAnswer(socket, { pong });
      }
      queue = queue.then(async () => {
        let answer: DaemonAnswer;
        try {
          answer = await answerRequest(request, root, watcher);
        } catch (e) {
          // The command's own errors are answers (exit codes); this is the daemon failing: the CLI runs it itself.
          answer = { declined: `the daemon failed: ${e instanceof Error ? e.message : String(e)}` };
        }
        served++;
        sendAnswer(socket, answer);
      });
    });
  });
  await listen(server, socketPath);
  chmodSync(socketPath, 0o600);
  const record: DaemonRecord = {
    pid: process.pid,
    socket: socketPath,
    token,
    build: BUILD_ID,
    root,
    startedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(root, DAEMON_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return {
    record,
    watcher,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await queue;
      watcher.close();
      removeRecord(root, record);
      rmSync(socketPath, { force: true });
    },
  };
}

/** `.keel/daemon.sock`, or a private folder of the temporary directory when that path is too long. */
function socketPathFor(root: string): string {
  const inProject = join(root, ".keel", "daemon.sock");
  if (Buffer.byteLength(inProject) <= MAX_SOCKET_PATH) return inProject;
  return join(mkdtempSync(join(tmpdir(), "keel-daemon-")), "daemon.sock");
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
}

/** Removes the record if it is still this daemon's (a daemon started since has written its own). */
function removeRecord(root: string, record: DaemonRecord): void {
  const path = join(root, DAEMON_FILE);
  try {
    const current = JSON.parse(readFileSync(path, "utf8")) as DaemonRecord;
    if (current.pid === record.pid && current.token === record.token) rmSync(path, { force: true });
  } catch {
    // gone or unreadable: nothing of ours to remove
  }
}

function sameToken(given: unknown, token: string): boolean {
  if (typeof given !== "string" || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/** Reads the one request line of a connection; a malformed or oversized one ends the connection. */
function readRequest(socket: Socket, onRequest: (request: DaemonRequest) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return void socket.destroy();
    if (!chunk.includes(10)) return;
    socket.removeAllListeners("data");
    const text = Buffer.concat(chunks).toString("utf8");
    let request: DaemonRequest;
    try {
      request = JSON.parse(text.slice(0, text.indexOf("\n"))) as DaemonRequest;
    } catch {
      return void socket.destroy();
    }
    if (!isRequest(request)) return void socket.destroy();
    onRequest(request);
  });
}

function isRequest(r: DaemonRequest): boolean {
  return (
    typeof r === "object" &&
    r !== null &&
    Array.isArray(r.argv) &&
    r.argv.every((a) => typeof a === "string") &&
    typeof r.cwd === "string" &&
    typeof r.build === "string" &&
    typeof r.color === "boolean" &&
    typeof r.env === "object" &&
    r.env !== null &&
    Object.values(r.env).every((v) => typeof v === "string")
  );
}

/** Runs one command line as the client would have run it, or declines it. */
async function answerRequest(
  request: DaemonRequest,
  root: string,
  watcher: TreeWatcher,
): Promise<DaemonAnswer> {
  if (request.build !== BUILD_ID) return { declined: `this daemon is Keel ${BUILD_ID}` };
  const words = forwardable(request.argv);
  if (words === null) return { declined: "not a read command" };
  const flag = rootFlag(request.argv);
  try {
    const start = flag === null ? request.cwd : resolve(request.cwd, flag);
    if (findProjectRoot(start, flag !== null).root !== root) return { declined: "another project" };
  } catch {
    return { declined: "no project here" }; // the CLI reports that itself, in its own words
  }
  // Every change made before the client asked is counted before the command looks (tree-watch.ts).
  await watcher.sync();
  if (!KEPT_ANSWERS.has(words[0] as string)) return runAsClient(request);
  // A digest, not the text: the client's environment may hold secrets, and is kept nowhere.
  const key = contentHash(JSON.stringify([request.argv, request.cwd, request.env, request.color]));
  const generation = watcher.generation(root);
  const kept = keptAnswers.get(key);
  if (kept && generation !== null && kept.generation === generation) return kept.answer;
  const answer = await runAsClient(request);
  if (generation !== null) {
    if (keptAnswers.size >= 16) keptAnswers.clear();
    keptAnswers.set(key, { generation, answer });
  }
  return answer;
}

/**
 * Commands whose answer is a function of the project's files and the request alone (no store, no clock, no
 * "how it was checked" figures): kept whole, by request, until the watcher sees a change.
 */
const KEPT_ANSWERS = new Set(["validate"]);
const keptAnswers = new Map<string, { generation: number; answer: DaemonAnswer }>();

async function runAsClient(request: DaemonRequest): Promise<DaemonAnswer> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  // As cli/output.ts writes them: each piece ends with a newline.
  const io: Io = {
    out: (s) => void stdout.push(s.endsWith("\n") ? s : `${s}\n`),
    err: (s) => void stderr.push(s.endsWith("\n") ? s : `${s}\n`),
    color: request.color,
  };
  const code = await asClient(request, () => runCommandLine(request.argv, io, request.cwd));
  return { code, stdout: Buffer.from(stdout.join(""), "utf8"), stderr: Buffer.from(stderr.join(""), "utf8") };
}

function sendAnswer(socket: Socket, answer: DaemonAnswer): void {
  if (!("code" in answer)) return void socket.end(`${JSON.stringify(answer)}\n`);
  const header: DaemonHeader = {
    code: answer.code,
    stdout: answer.stdout.length,
    stderr: answer.stderr.length,
  };
  socket.write(`${JSON.stringify(header)}\n`);
  socket.write(answer.stdout);
  socket.end(answer.stderr);
}

/** Runs `work` in the client's folder and environment, then puts the daemon's own back. */
async function asClient<T>(request: DaemonRequest, work: () => Promise<T>): Promise<T> {
  const ownEnv = { ...process.env };
  const ownCwd = process.cwd();
  replaceEnv(request.env);
  try {
    process.chdir(request.cwd);
    return await work();
  } finally {
    replaceEnv(ownEnv);
    process.chdir(ownCwd);
  }
}

function replaceEnv(env: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
}
