// Worker-thread entry of the trace scan: says it is ready, then scans the batches of paths it is sent, one at a
// time, and hands each batch's links and problems back (see pool.ts).
import { parentPort, workerData } from "node:worker_threads";
import { fileContext, scanBatch } from "./file.js";
import type { Batch } from "./files.js";
import { knownIds } from "./ids.js";
import type { WorkerInit, WorkerMessage } from "./pool.js";

const init = workerData as WorkerInit;
const ctx = fileContext(init.root, knownIds(init.known), init.limits);
const post = (m: WorkerMessage) => parentPort?.postMessage(m);

parentPort?.on("message", (message: { id: number; batch: Batch }) => {
  post({ id: message.id, result: scanBatch(ctx, message.batch) });
});
post({ ready: true });
