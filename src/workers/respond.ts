import { AeflowError, type SerializedError } from '../errors.js';
import { maybeFail } from './faults.js';

/**
 * A worker's entry point for one job: runs the handler of the request's kind, one request in, one response out.
 * Errors travel as data, so their codes survive the thread boundary. `before` runs first, its errors reported
 * as the handler's.
 */
export async function respond<Q extends { kind: string }, A>(
  handlers: { readonly [K in Q['kind']]: (request: never) => unknown },
  request: Q,
  before?: (kind: string) => Promise<void>,
): Promise<A> {
  try {
    await before?.(request.kind);
    maybeFail(request.kind);
    const result = await (handlers[request.kind as Q['kind']] as (r: Q) => unknown)(request);
    return { ok: true, result } as A;
  } catch (e) {
    return { ok: false, error: serialize(e) } as A;
  }
}

function serialize(e: unknown): SerializedError {
  if (e instanceof AeflowError) return e.toJSON();
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: 'WORKER_FAILED', message: `worker: ${err.message}`, hint: 'rerun with --verbose and report the stack', stack: err.stack };
}
