// `keel serve` as a real child process on a free port, plain HTTP requests to it (node:http, so that the Host
// header, the body and the method are exactly what the test says), and a subscriber of its event stream.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { type IncomingMessage, request } from "node:http";
import { createInterface } from "node:readline";
import { expect } from "vitest";
import { CLI, cliEnv } from "./cli.js";

export interface Served {
  child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:<port>` (or the address given with --host), as the server printed it. */
  base: string;
  port: number;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code once it exited (0 when it closed cleanly). */
  stop(): Promise<number | null>;
}

/** Starts `keel serve --port 0 …args` in `root`; resolves once it printed the line naming its URL. */
export async function startServe(
  root: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Served> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], {
    cwd: root,
    env: cliEnv(env),
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`keel serve exited with ${code}: ${stderr}`)));
  });
  // 127.0.0.1 by default; the bound address (e.g. 0.0.0.0) when a test passes --host.
  const m = first.match(/^keel serve: (http:\/\/[^\s/]+:(\d+))$/);
  if (!m) child.kill("SIGTERM"); // a failed start leaves no server behind
  expect(m, first).not.toBeNull();
  return {
    child,
    base: (m as RegExpMatchArray)[1] as string,
    port: Number((m as RegExpMatchArray)[2]),
    stderr: () => stderr,
    stop: async () => {
      // Already gone (a test may SIGKILL it): a killed process has no exit code, only its signal.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON checked field by field by the caller
  json: any;
}

/** One request to 127.0.0.1:`port`; the Host header is loopback with the port unless `host` says otherwise. */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  opts: { host?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    // The server answers a refused body early and closes; writing the rest may then fail, which is fine.
    req.on("error", (e) => (opts.body ? undefined : reject(e)));
    req.end(opts.body);
  });
}

/** A CLI --json answer (or its REST twin) without the index stats: they say how much work a run did, not what is there. */
// biome-ignore lint/suspicious/noExplicitAny: JSON
export function withoutIndex(v: any): any {
  const { index: _index, ...rest } = v;
  return rest;
}

export interface SseEvent {
  type: string;
  /** The `id:` line (the audit sequence number of an audit event), or null. */
  id: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: JSON
  data: any;
}

export interface EventFeedClient {
  /** Every event received so far, in order. */
  seen: SseEvent[];
  /** The first event (already received or still to come) that matches. */
  next(pred: (e: SseEvent) => boolean): Promise<SseEvent>;
  close(): void;
}

/** A plain GET on /events, parsed as it arrives. */
export function subscribeEvents(
  port: number,
  headers: Record<string, string> = {},
): Promise<EventFeedClient> {
  return new Promise((resolve, reject) => {
    const seen: SseEvent[] = [];
    const waiters: Array<{ pred: (e: SseEvent) => boolean; done: (e: SseEvent) => void }> = [];
    const req = request(
      { host: "127.0.0.1", port, path: "/events", headers: { host: `localhost:${port}`, ...headers } },
      (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const lines = block.split("\n");
            const type = lines.find((l) => l.startsWith("event: "))?.slice(7);
            const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
            if (type === undefined || data === undefined) continue;
            const id = lines.find((l) => l.startsWith("id: "))?.slice(4) ?? null;
            const e = { type, id, data: JSON.parse(data) };
            seen.push(e);
            for (const w of [...waiters])
              if (w.pred(e)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.done(e);
              }
          }
        });
        resolve({
          seen,
          next: (pred) =>
            new Promise((done) => {
              const hit = seen.find(pred);
              if (hit) done(hit);
              else waiters.push({ pred, done });
            }),
          close: () => req.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
