import path from 'node:path';
import type { BackendChoice } from '../backend.js';
import { loadPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { runPipeline } from '../pipeline/run.js';
import { readCheckpoint } from '../sinks/checkpoint.js';
import { runFolder } from '../sinks/runFolder.js';
import { parseCommand, positiveInt } from './args.js';

export const runUsage =
  'aeflow run PIPELINE.yaml [--set key=value]... [--out DIR] [--force] [--backend auto|tensorflow|wasm|cpu] [--workers N|auto] [--verbose]\n' +
  '       aeflow run --resume RUN_FOLDER';

/**
 * `aeflow run`: train a pipeline and write its run folder; `--resume` goes on from a run folder's checkpoint.
 * SIGINT / SIGTERM stop after the batches in flight, write a checkpoint and say how to resume (exit 130);
 * a second signal quits at once.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    'run',
    argv,
    {
      set: { type: 'string', multiple: true },
      out: { type: 'string' },
      force: { type: 'boolean' },
      backend: { type: 'string' },
      workers: { type: 'string' },
      resume: { type: 'string' },
    },
    runUsage,
  );
  if (values.help) {
    console.log(runUsage);
    return 0;
  }
  const backend = values.backend as BackendChoice | undefined;
  if (backend !== undefined && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new AeflowError('USAGE', `--backend ${backend}: unknown backend`, 'choose auto, tensorflow, wasm or cpu');
  }
  const workers = values.workers === 'auto' ? 'auto' : positiveInt('--workers', values.workers);

  let loaded: Awaited<ReturnType<typeof loadPipeline>>;
  let out: string;
  let resume: ReturnType<typeof readCheckpoint> | undefined;
  if (values.resume) {
    if (positionals.length > 0 || values.set || values.out) {
      throw new AeflowError('USAGE', '--resume takes the run folder alone: the pipeline and its settings are the run’s own', `usage: ${runUsage}`);
    }
    out = path.resolve(values.resume);
    resume = readCheckpoint(out);
    loaded = await loadPipeline(path.join(out, 'pipeline.yaml'));
  } else {
    if (positionals.length !== 1) throw new AeflowError('USAGE', 'aeflow run needs one pipeline file', `usage: ${runUsage}`);
    loaded = await loadPipeline(positionals[0], values.set ?? []);
    out = runFolder(loaded.name, values.out ?? loaded.config.outputs.dir, Boolean(values.force));
  }

  const abort = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    console.error(`\n${signal}: stopping after the batches in flight and writing a checkpoint (again to quit at once)`);
    abort.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    if (resume)
      console.log(`resuming ${path.relative(process.cwd(), out) || '.'} after epoch ${resume.epoch}${resume.batches ? ` and ${resume.batches} batches` : ''}`);
    await runPipeline(loaded, { out, backend, workers, signal: abort.signal, resume });
  } catch (e) {
    if (e instanceof AeflowError && e.code === 'INTERRUPTED') process.exitCode = 130;
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
