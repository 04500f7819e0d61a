// The web app's files, served by `keel serve` itself (no CDN, no second server): the build (scripts/build.mjs)
// writes dist/web/ — index.html, content-hashed assets, and views.json naming the app's view URLs. Files are read
// once at start and looked up by name, so no request path ever reaches the file system. Every answer of the
// server carries the security headers below; the policy allows scripts, styles and connections from this origin
// only, and no inline script (the app has none).
// @req WEB-1, WEB-4
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { SECURITY_HEADERS } from "./wire.js";

/** Where the build puts the app, relative to the bundled module serving it (dist/chunks/ → dist/web/). */
declare const KEEL_WEB_DIR: string | undefined;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  /** Content-hashed assets never change under their name; the page itself is revalidated. */
  immutable: boolean;
}

export class WebApp {
  private constructor(
    private readonly files: Map<string, StaticFile>,
    private readonly views: Set<string>,
  ) {}

  /** The built app, or null when this build has none (the API is served all the same). */
  static load(): WebApp | null {
    if (typeof KEEL_WEB_DIR !== "string") return null;
    const dir = fileURLToPath(new URL(KEEL_WEB_DIR, import.meta.url));
    if (!existsSync(join(dir, "index.html"))) return null;
    const files = new Map<string, StaticFile>();
    const add = (urlPath: string, path: string, immutable: boolean) => {
      const body = readFileSync(path);
      const type = TYPES[extname(path)] ?? "application/octet-stream";
      const compressible = type.startsWith("text/") || type === "image/svg+xml";
      files.set(urlPath, { body, gzip: compressible ? gzipSync(body, { level: 9 }) : null, type, immutable });
    };
    add("/", join(dir, "index.html"), false);
    for (const name of readdirSync(join(dir, "assets")))
      add(`/assets/${name}`, join(dir, "assets", name), true);
    const views = new Set(JSON.parse(readFileSync(join(dir, "views.json"), "utf8")) as string[]);
    return new WebApp(files, views);
  }

  /** Answers a GET or HEAD for the app (a view's URL or an asset) and returns true; false when it is not one. */
  serve(pathname: string, req: IncomingMessage, res: ServerResponse): boolean {
    const file = this.files.get(pathname) ?? (this.isView(pathname) ? this.files.get("/") : undefined);
    if (!file) return false;
    const gzip = file.gzip !== null && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? (file.gzip as Buffer) : file.body;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": file.type,
      "content-length": body.length,
      "cache-control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "accept-encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }

  /** A view's URL: its first segment names a view of the app (`/specs/payments`, `/tasks/x/1.2`). */
  private isView(pathname: string): boolean {
    const first = pathname.split("/")[1] ?? "";
    return this.views.has(first) && !pathname.includes("//");
  }
}
