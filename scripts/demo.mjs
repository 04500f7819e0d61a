// `npm run demo`: Keel's main job on the bundled example (examples/acme-invoicing) — its status, validation and
// ready tasks — then the web app on it, served by `keel serve` on loopback, with the URL to open. In a terminal
// the server stays up until Ctrl-C; elsewhere (CI, a pipe) the demo checks that the app answers, then stops it.
import { spawn, spawnSync } from "node:child_process";
import { get } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const KEEL = fileURLToPath(new URL("../dist/keel.mjs", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../examples/acme-invoicing", import.meta.url));

function step(...args) {
  const r = spawnSync(process.execPath, [KEEL, "-C", EXAMPLE, ...args], { stdio: "inherit" });
  // validate exits 1 on findings it reports; anything else is a failure of the demo.
  if (r.status !== 0 && !(args[0] === "validate" && r.status === 1)) process.exit(r.status ?? 1);
  process.stdout.write("\n");
}

step("status");
step("validate");
step("tasks", "ready");

const server = spawn(process.execPath, [KEEL, "-C", EXAMPLE, "serve", "--port", "0", "--as", "human:demo"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const first = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout }).once("line", resolve);
  server.once("exit", (code) => reject(new Error(`keel serve exited with ${code}`)));
});
const url = /^keel serve: (\S+)$/.exec(first)?.[1];
if (!url) {
  server.kill();
  throw new Error(`unexpected first line from keel serve: ${first}`);
}
process.stdout.write(`The web app of the example: ${url}/\n`);
if (process.stdout.isTTY) {
  process.stdout.write("Open it in a browser; Ctrl-C stops the server.\n");
  process.on("SIGINT", () => server.kill("SIGTERM"));
  server.on("exit", (code) => process.exit(code ?? 0));
} else {
  const status = await new Promise((resolve, reject) =>
    get(`${url}/`, (res) => resolve(res.statusCode)).on("error", reject),
  );
  process.stdout.write(`It answered ${status}; run \`npm run demo\` in a terminal to keep it up.\n`);
  server.kill("SIGTERM");
  server.on("exit", () => process.exit(status === 200 ? 0 : 1));
}
