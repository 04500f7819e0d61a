// Crash injection, for tests only. With KEEL_TEST_CRASH_AT=<scope>:<n> (e.g. `apply:3`) in the environment,
// the n-th crash point of that scope this process passes kills it with SIGKILL: no exit handler, no flush, no
// `finally`, as a power cut or an OOM kill would. Tests use it to land a crash exactly between two writes or in
// the middle of one, which a timed kill cannot do reliably. Unset (always, outside tests), a crash point costs
// one environment lookup and does nothing. tests/apply-journal.test.ts shows its use.
// @req TRU-12

const passed = new Map<string, number>();

export function crashPoint(scope: string): void {
  const at = process.env.KEEL_TEST_CRASH_AT;
  if (at === undefined) return;
  const n = (passed.get(scope) ?? 0) + 1;
  passed.set(scope, n);
  if (at === `${scope}:${n}`) process.kill(process.pid, "SIGKILL");
}
