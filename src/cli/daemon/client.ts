// The CLI's side of `keel daemon`: a read command is sent to the project's daemon when one runs, and answered
// locally, exactly as without a daemon, when none does, when it is stale (its process is gone, it does not
// acknowledge within a moment, it closes the connection), or when it declines.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { BUILD_ID } from "../../model/version.js";
import { pidAlive } from "../../workspace/process.js";
import {
  DAEMON_FILE,
  type DaemonAnswer,
  type DaemonFigures,
  type DaemonHeader,
  type DaemonRecord,
  forwardable,
  rootFlag,
} from "./protocol.js";

/** A live daemon acknowledges a request at once; one that does not within this long is ignored. */
const ACK_TIMEOUT_MS = 1_000;

/** The daemon's answer: the exit code, and the output as the chunks it arrived in. */
export interface Answered {
  stdout: Buffer[];
  stderr: Buffer[];
  code: number;
}

/** What the daemon sent back: an answer, its figures (a ping), or a refusal. */
type Received = Answered | Exclude<DaemonAnswer, { code: number }>;

/** The daemon's answer to this command line, or null to run it here. KEEL_NO_DAEMON=1 always runs it here. */
export async function askDaemon(argv: string[], cwd: string, color: boolean): Promise<Answered | null> {
  if (process.env.KEEL_NO_DAEMON === "1" || forwardable(argv) === null) return null;
  const flag = rootFlag(argv);
  const record = findRecord(flag === null ? cwd : resolve(cwd, flag));
  if (!record || !pidAlive(record.pid) || record.build !== BUILD_ID) return null;
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const answer = await exchange(record.socket, {
    token: record.token,
    build: BUILD_ID,
    argv,
    cwd,
    env,
    color,
  });
  return answer && "code" in answer ? answer : null;
}

/** The figures of the daemon a record names, or null when it does not answer. */
export async function pingDaemon(record: DaemonRecord): Promise<DaemonFigures | null> {
  const request = {
    token: record.token,
    build: BUILD_ID,
    ping: true,
    argv: [],
    cwd: "/",
    env: {},
    color: false,
  };
  const answer = await exchange(record.socket, request);
  return answer && "pong" in answer ? answer.pong : null;
}

/** The daemon record of the nearest folder, from `start` upwards, that has one. */
function findRecord(start: string): DaemonRecord | null {
  for (let dir = start; ; dir = dirname(dir)) {
    let text: string | null = null;
    try {
      text = readFileSync(join(dir, DAEMON_FILE), "utf8");
    } catch {
      // none here: look further up
    }
    if (text !== null) {
      try {
        return JSON.parse(text) as DaemonRecord;
      } catch {
        return null; // half-written or damaged: no daemon to trust
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Sends one request; resolves with the answer, or null if the daemon failed to give one. The daemon writes an
 * acknowledgement line at once, then a header line and the output's bytes, and closes the connection.
 */
function exchange(socketPath: string, request: object): Promise<Received | null> {
  return new Promise((done) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let acked = false;
    const finish = (answer: Received | null) => {
      clearTimeout(timer);
      socket.destroy();
      done(answer);
    };
    const timer = setTimeout(() => finish(null), ACK_TIMEOUT_MS);
    socket.on("error", () => finish(null));
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (!acked && chunk.includes(10)) {
        acked = true;
        clearTimeout(timer); // the daemon took it: its answer may take as long as the command does
      }
    });
    socket.on("end", () => finish(parseAnswer(chunks)));
    socket.on("close", () => finish(null));
  });
}

/**
 * The answer in what the daemon sent, or null when it was cut short (the daemon died mid-answer). The output is
 * handed on as the chunks it came in: joining megabytes into one fresh buffer costs more than writing them.
 */
function parseAnswer(chunks: Buffer[]): Received | null {
  // The two short lines come first: join chunks only until both are in.
  let head = Buffer.alloc(0);
  let used = 0;
  let nl = -1;
  while (nl < 0 && used < chunks.length) {
    head = Buffer.concat([head, chunks[used++] as Buffer]);
    const ack = head.indexOf(10);
    nl = ack < 0 ? -1 : head.indexOf(10, ack + 1);
  }
  if (nl < 0) return null;
  let header: DaemonHeader;
  try {
    header = JSON.parse(head.subarray(head.indexOf(10) + 1, nl).toString("utf8")) as DaemonHeader;
  } catch {
    return null;
  }
  if ("declined" in header || "pong" in header) return header;
  const body = [head.subarray(nl + 1), ...chunks.slice(used)];
  if (body.reduce((n, b) => n + b.length, 0) !== header.stdout + header.stderr) return null;
  return {
    code: header.code,
    stdout: slice(body, 0, header.stdout),
    stderr: slice(body, header.stdout, Infinity),
  };
}

/** The bytes [from, to) of a list of chunks, as views of them. */
function slice(chunks: Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of chunks) {
    const start = Math.max(from - at, 0);
    const end = Math.min(to - at, c.length);
    if (end > start) out.push(c.subarray(start, end));
    at += c.length;
  }
  return out;
}
