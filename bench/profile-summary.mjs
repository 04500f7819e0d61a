#!/usr/bin/env node
// Summarises V8 CPU profiles (`node --cpu-prof`) as text: self time by function and by source file, the
// "flame summary" bench/README.md quotes before and after a change.
//
//   node bench/profile-summary.mjs PROFILE.cpuprofile... [--top N]
//
// Several profiles (a process and its worker threads) are summed. Paths are shown relative to the
// package (dist/…, node_modules/…) so no machine path is printed.
import { readFileSync } from "node:fs";

// `… | head` closes the pipe early: that ends the output, not in a crash.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
if (args.length === 0) {
  process.stderr.write("usage: node bench/profile-summary.mjs PROFILE.cpuprofile... [--top N]\n");
  process.exit(2);
}

const byFunction = new Map();
const byFile = new Map();
let totalUs = 0;
for (const path of args) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the time from sample i-1 to sample i: charge it to sample i's node.
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const file = shortFile(callFrame.url);
    const name = `${callFrame.functionName || "(anonymous)"} ${file ? `${file}:${callFrame.lineNumber + 1}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const fileKey = file || `(${callFrame.functionName || "native"})`;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
    totalUs += us;
  }
}

function shortFile(url) {
  if (!url) return "";
  const path = url.replace(/^file:\/\//, "");
  const at = path.search(/\/(dist|src|node_modules)\//);
  return at >= 0 ? path.slice(at + 1) : path.startsWith("node:") ? path : path.split("/").slice(-2).join("/");
}

function print(title, map) {
  process.stdout.write(`${title}\n`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const ms = (us / 1000).toFixed(1).padStart(8);
    const pct = ((100 * us) / totalUs).toFixed(1).padStart(5);
    process.stdout.write(`${ms} ms ${pct}%  ${name}\n`);
  }
}

process.stdout.write(`total sampled ${(totalUs / 1000).toFixed(0)} ms over ${args.length} profile(s)\n\n`);
print("self time by function", byFunction);
process.stdout.write("\n");
print("self time by file", byFile);
