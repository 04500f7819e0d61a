// A task that must not overlap itself, asked for by many callers (a mirror's read-back, a log's forward): one run
// at a time, and the calls made while one runs share the single run queued after it. That run starts after every
// one of those calls, so it sees whatever each caller was waiting for; no caller waits behind more than two runs.
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  return () => {
    queued ??= (running ?? Promise.resolve()).then(() => {
      queued = null;
      const current = run().finally(() => {
        if (running === current) running = null;
      });
      running = current;
      return current;
    });
    return queued;
  };
}
