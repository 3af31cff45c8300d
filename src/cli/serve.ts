import { once } from 'node:events';
import { AeflowError, isAeflowError } from '../errors.js';
import type { BatchReport } from '../serve/microBatcher.js';
import { ServedModel } from '../serve/servedModel.js';
import { modelServer } from '../serve/server.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { backendFlag, modelFolder, parseCommand, positiveInt, usageError, workersFlag } from './args.js';

/**
 * `aeflow serve`: a run's model behind HTTP until SIGTERM (or SIGINT), which stops new requests, answers those in
 * flight, and exits 0.
 */
export async function serveCommand(argv: string[]): Promise<number> {
  const args = parseCommand('serve', argv);
  if (!args) return 0;
  const { values } = args;
  if (!values.model) throw usageError('serve', 'aeflow serve needs --model');
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError('serve', `--port ${values.port}: expected a port number from 0 to 65535`);
  const host = values.host ?? '127.0.0.1';
  const maxDelayMs = values['max-delay'] === undefined ? 2 : Number(values['max-delay']);
  if (!(maxDelayMs >= 0)) throw usageError('serve', `--max-delay ${values['max-delay']}: expected milliseconds, 0 or more`);
  const bodyMb = values['body-limit'] === undefined ? 16 : Number(values['body-limit']);
  if (!(bodyMb > 0)) throw usageError('serve', `--body-limit ${values['body-limit']}: expected megabytes, more than 0`);
  const backend = backendFlag(values.backend) ?? 'auto';
  const model = await ServedModel.load({
    folder: modelFolder(values.model),
    backend,
    workers: resolveWorkers(workersFlag(values.workers) ?? 'auto', backend),
    settings: labelSetting(values['label-column']),
  });
  const server = modelServer(model, {
    batching: { maxRows: positiveInt('--max-batch', values['max-batch']) ?? 512, maxDelayMs },
    bodyLimit: Math.round(bodyMb * 1024 * 1024),
    onBatchError: reportFailure,
  });
  try {
    const stop = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    await server.app.listen({ host, port });
    const address = server.app.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
    console.log(
      `serve: ${model.inference.inputs} inputs, ${model.inference.codeSize} codes, ${model.inference.workers} worker(s), ${model.inference.backend} backend`,
    );
    await stop;
    console.log(`serve: stopping: answering the ${server.inFlight()} request(s) in flight, refusing new ones`);
    await server.drain();
    console.log('serve: every request answered; exiting');
  } finally {
    await model.close();
  }
  return 0;
}

function labelSetting(value: string | undefined): { labelColumn?: number | null } {
  if (value === undefined) return {};
  if (value === 'none') return { labelColumn: null };
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new AeflowError('USAGE', `--label-column ${value}: expected a 1-based column number or none`, 'e.g. --label-column 1');
  return { labelColumn: n };
}

/** A batch that failed is answered 500 to each of its requests; the log says why, and what happens next. */
function reportFailure(r: BatchReport): void {
  const e = r.error;
  const message = e instanceof Error ? e.message : String(e);
  const died = isAeflowError(e) && e.code === 'WORKER_FAILED';
  console.error(
    `serve: a ${r.kind} batch of ${r.rows} row(s) from ${r.requests} request(s) failed: ${message}; answered 500` +
      (died ? '; a new worker takes its place and loads the model again' : ''),
  );
}
