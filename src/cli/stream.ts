import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { runSettings } from '../config/runSettings.js';
import { AeflowError } from '../errors.js';
import { requireThreshold } from '../pipeline/modelData.js';
import { ServedModel } from '../serve/servedModel.js';
import { StreamScorer } from '../serve/streamScorer.js';
import { StreamWriter } from '../sinks/redisStream.js';
import { connectRedis, isRedisUrl, parseStreamUrl, sameServer, StreamGroupReader } from '../sources/redisStream.js';
import { resolveWorkers } from '../workers/workerCount.js';
import { backendFlag, dataFlags, modelFolder, positiveInt, usageError, workersFlag } from './args.js';

/** The options of encode and score that a stream job reads. */
export interface StreamValues {
  model?: string;
  input?: string;
  out?: string;
  group?: string;
  consumer?: string;
  'claim-after'?: string;
  'until-idle'?: string;
  batch?: string;
  workers?: string;
  backend?: string;
  scale?: string;
  'label-column'?: string;
  'on-bad-row'?: string;
}

/** Entries per read when --batch is not given (score has none). */
const DEFAULT_COUNT = 512;

/**
 * `aeflow encode|score --input redis://… --group G --out redis://…`: one consumer of a stream's group, until
 * --until-idle finds nothing left, or SIGTERM (then what it holds is answered and acknowledged first).
 */
export async function streamCommand(kind: 'encode' | 'score', values: StreamValues): Promise<number> {
  const input = parseStreamUrl(values.input as string, '--input');
  if (!isRedisUrl(values.out)) throw usageError(kind, `with --input ${input.text}, --out must be a stream too: redis://HOST:PORT/STREAM`);
  const out = parseStreamUrl(values.out as string, '--out');
  if (!values.group) throw usageError(kind, `with --input ${input.text}, --group NAME is needed: the consumer group this process reads in`);
  const consumer = values.consumer ?? `${hostname()}-${process.pid}`;
  const claimAfterMs = 1000 * (seconds('--claim-after', values['claim-after']) ?? 30);
  const idle = seconds('--until-idle', values['until-idle']);
  const folder = modelFolder(values.model as string);
  const { scale, labelColumn } = dataFlags(values, runSettings(folder));
  const backend = backendFlag(values.backend) ?? 'auto';
  const model = await ServedModel.load({
    folder,
    backend,
    workers: resolveWorkers(workersFlag(values.workers) ?? 'auto', backend),
    settings: { scale, labelColumn },
  });
  const connections: Redis[] = [];
  const stop = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) console.log(`${kind}: stopping: answering and acknowledging what this consumer holds`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  try {
    model.input.checkRecords();
    if (kind === 'score') requireThreshold(model.data, values.model as string);
    const log = (line: string) => console.log(line);
    for (let i = 0; i < 2; i++) connections.push(await connectRedis(input, log));
    const writer = sameServer(input, out) ? connections[1] : await connectRedis(out, log);
    if (writer !== connections[1]) connections.push(writer);
    const reader = new StreamGroupReader(connections[0], connections[1], input, values.group, consumer);
    console.log(
      `${kind}: ${input.text}, group ${values.group}, as ${consumer} -> ${out.text} (${model.inference.workers} worker(s), ${model.inference.backend})`,
    );
    const count = positiveInt('--batch', values.batch) ?? DEFAULT_COUNT;
    const job = { kind, count, claimAfterMs, untilIdleMs: idle === null ? null : 1000 * idle, signal: stop.signal, log, progressEvery: 5000 };
    const s = await new StreamScorer(model, reader, new StreamWriter(writer, out), job).run();
    console.log(
      `${kind}: ${s.entries} ${s.entries === 1 ? 'entry' : 'entries'} in ${s.seconds.toFixed(1)} s (${Math.round(s.entries / Math.max(s.seconds, 1e-3))}/s), ${s.dead} to ${out.text}:dead; ${s.reason}`,
    );
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
    for (const c of connections) c.disconnect();
    await model.close();
  }
  return 0;
}

function seconds(option: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new AeflowError('USAGE', `${option} ${value}: expected seconds, more than 0`, `e.g. ${option} 30`);
  return n;
}
