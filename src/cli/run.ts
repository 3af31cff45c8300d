import type { BackendChoice } from '../backend.js';
import { loadPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { runPipeline } from '../pipeline/run.js';
import { runFolder } from '../sinks/runFolder.js';
import { parseCommand, positiveInt } from './args.js';

export const runUsage =
  'aeflow run PIPELINE.yaml [--set key=value]... [--out DIR] [--force] [--backend auto|tensorflow|wasm|cpu] [--workers N|auto] [--verbose]';

/** `aeflow run`: train a pipeline and write its run folder. */
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
    },
    runUsage,
  );
  if (values.help) {
    console.log(runUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new AeflowError('USAGE', 'aeflow run needs one pipeline file', `usage: ${runUsage}`);
  const backend = values.backend as BackendChoice | undefined;
  if (backend !== undefined && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new AeflowError('USAGE', `--backend ${backend}: unknown backend`, 'choose auto, tensorflow, wasm or cpu');
  }
  const loaded = await loadPipeline(positionals[0], values.set ?? []);
  const out = runFolder(loaded.name, values.out ?? loaded.config.outputs.dir, Boolean(values.force));
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const workers = values.workers === 'auto' ? 'auto' : positiveInt('--workers', values.workers);
    await runPipeline(loaded, { out, backend, workers, signal: abort.signal });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
