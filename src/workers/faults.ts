/**
 * Fault injection for tests of failure handling: AEFLOW_FAULT=<what>:<request kind>:<n> makes a worker fail on its
 * n-th request of that kind — `exit` ends the worker thread (as a crash would), `throw` raises a plain error.
 * Unset (always, outside tests), it does nothing.
 */
const spec = /^(exit|throw):([a-zA-Z]+):(\d+)$/.exec(process.env.AEFLOW_FAULT ?? '');
const counts = new Map<string, number>();

export function maybeFail(kind: string): void {
  if (!spec || spec[2] !== kind) return;
  const n = (counts.get(kind) ?? 0) + 1;
  counts.set(kind, n);
  if (n !== Number(spec[3])) return;
  if (spec[1] === 'exit') process.exit(3);
  throw new Error(`injected fault in ${kind} #${n}`);
}
