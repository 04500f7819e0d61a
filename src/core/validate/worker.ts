// Worker-thread entry for cold validation: analyses its share of files and hands the results back
// through a port the main thread reads synchronously (see analyseEntries).
import { type MessagePort, workerData } from "node:worker_threads";
import { analyseChunk, type FileRuleSettings, type WorkItem } from "./analyse-file.js";

const data = workerData as {
  work: WorkItem[];
  now: number;
  settings: FileRuleSettings;
  signal: Int32Array;
  port: MessagePort;
};

try {
  // Each file done is counted where the main thread can read it at once, for its progress line.
  const counted = () => void Atomics.add(data.signal, 1, 1);
  data.port.postMessage({ results: analyseChunk(data.work, data.now, data.settings, counted) });
} catch (e) {
  data.port.postMessage({ error: e instanceof Error ? e.message : String(e) });
} finally {
  Atomics.store(data.signal, 0, 1);
  Atomics.notify(data.signal, 0);
}
