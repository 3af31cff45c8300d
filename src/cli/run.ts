import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { runPipeline } from '../pipeline/run.js';
import { readCheckpoint } from '../sinks/checkpoint.js';
import { shown } from '../sinks/overwrite.js';
import { isFree, runFolder } from '../sinks/runFolder.js';
import { backendFlag, parseCommand, usageError, workersFlag } from './args.js';

type Values = NonNullable<ReturnType<typeof parseCommand<'run'>>>['values'];

/** What `aeflow run` is to do: train a pipeline into `out`, or go on from a checkpoint there. */
interface Target {
  loaded: Awaited<ReturnType<typeof loadPipeline>>;
  out: string;
  resume?: ReturnType<typeof readCheckpoint>;
}

/**
 * `aeflow run`: train a pipeline and write its run folder; `--resume` goes on from a run folder's checkpoint.
 * SIGINT / SIGTERM stop after the batches in flight, write a checkpoint and say how to resume (exit 130);
 * a second signal quits at once.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const args = parseCommand('run', argv);
  if (!args) return 0;
  const { values, positionals } = args;
  const backend = backendFlag(values.backend);
  const workers = workersFlag(values.workers);
  const target = values.resume === undefined ? await freshRun(values, positionals) : await resumedRun(values.resume, values, positionals);
  if (!target) return 0;
  const { loaded, out, resume } = target;
  // Whether the run made its folder: a run that fails once it has started keeps it and says where it is.
  const hadFolder = !isFree(out);

  const abort = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    console.error(`\n${signal}: stopping after the batches in flight and writing a checkpoint (again to quit at once)`);
    abort.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    if (resume) console.log(`resuming ${shown(out)} after epoch ${resume.epoch}${resume.batches ? ` and ${resume.batches} batches` : ''}`);
    await runPipeline(loaded, { out, backend, workers, signal: abort.signal, resume });
  } catch (e) {
    if (e instanceof AeflowError && e.code === 'INTERRUPTED') process.exitCode = 130;
    if (e instanceof AeflowError && e.code !== 'INTERRUPTED' && !hadFolder && !isFree(out)) throw keptFolder(e, out);
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

/** A run's name becomes a folder under runs/: one path segment. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new AeflowError('USAGE', `--name "${name}": a run's name is a folder name, without / or \\`, 'e.g. --name mnist-wide');
  }
}

async function freshRun(values: Values, positionals: string[]): Promise<Target> {
  if (positionals.length !== 1) throw usageError('run', 'aeflow run needs one pipeline file (or --resume RUN)');
  const sets = [...(values.set ?? [])];
  if (values.name !== undefined) {
    checkName(values.name);
    // As a --set of the key `name`, quoted so that it stays a string: logs, summary.json and pipeline.yaml carry it.
    sets.push(`name=${JSON.stringify(values.name)}`);
  }
  const loaded = await loadPipeline(positionals[0], sets);
  return { loaded, out: runFolder(loaded.name, values.out ?? loaded.config.outputs.dir, Boolean(values.force)) };
}

/** The outputs a resumed run may change: what it writes at the end, which does not change what it trains. */
const RESUMABLE_SETS = ['outputs.save_model', 'outputs.report', 'outputs.evaluate'];

/** `--resume RUN`: the run's own pipeline.yaml and checkpoint; null when the run is already complete (said so). */
async function resumedRun(run: string, values: Values, positionals: string[]): Promise<Target | null> {
  if (positionals.length > 0 || values.out !== undefined || values.name !== undefined || values.force) {
    throw usageError(
      'run',
      '--resume takes the run folder alone (with --set outputs.*, --backend, --workers): the pipeline, name and folder are the run’s own',
    );
  }
  const sets = values.set ?? [];
  for (const set of sets) {
    const key = set.slice(0, Math.max(0, set.indexOf('=')));
    if (key === 'outputs.dir') {
      throw usageError('run', `--resume ${run} --set ${set}: a resumed run writes into its own folder, ${run}`);
    }
    if (!RESUMABLE_SETS.includes(key)) {
      throw new AeflowError(
        'USAGE',
        `--resume ${run} --set ${set}: a resumed run trains with the settings it started with (${path.join(run, 'pipeline.yaml')}), so that it ends as the run left alone would`,
        `only ${RESUMABLE_SETS.join(', ')} (what it writes at the end) can change; to train with other settings, start a new run`,
      );
    }
  }
  const out = path.resolve(run);
  if (!existsSync(out) || !statSync(out).isDirectory()) {
    throw new AeflowError(
      'CHECKPOINT_NOT_FOUND',
      `--resume ${run}: no such run folder`,
      'pass the folder of an earlier run, as its INTERRUPTED message names it (e.g. runs/mnist)',
    );
  }
  if (!existsSync(path.join(out, 'pipeline.yaml'))) {
    throw new AeflowError(
      'CHECKPOINT_NOT_FOUND',
      `--resume ${run}: not a run folder (no pipeline.yaml)`,
      'pass a folder written by aeflow run (e.g. runs/mnist)',
    );
  }
  if (existsSync(path.join(out, 'summary.json'))) {
    complete(out, sets);
    return null;
  }
  const resume = readCheckpoint(out);
  return { loaded: await loadPipeline(path.join(out, 'pipeline.yaml'), sets), out, resume };
}

/** Resuming a run that finished: nothing to do, so say what it did and where its outputs are. */
function complete(out: string, sets: readonly string[]): void {
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { epochs: number; test_loss: number };
  const epochs = `${summary.epochs} epoch${summary.epochs === 1 ? '' : 's'}`;
  console.log(`${shown(out)}: the run is complete (${epochs}, test loss ${summary.test_loss.toFixed(5)}); nothing to resume`);
  const files = readdirSync(out, { withFileTypes: true })
    .map((f) => f.name + (f.isDirectory() ? '/' : ''))
    .sort();
  console.log(`outputs: ${shown(out)}/ (${files.join(', ')})`);
  if (sets.length > 0) console.log(`${sets.map((s) => `--set ${s}`).join(' ')}: not applied, the run wrote its outputs when it finished`);
}

/** The error of a run that failed once it had started: its folder stays, with what it wrote, and the hint says where. */
function keptFolder(e: AeflowError, out: string): AeflowError {
  const where = `what the run wrote before it failed is in ${shown(out)}/`;
  const kept = new AeflowError(e.code, e.message, e.hint ? `${e.hint}; ${where}` : where);
  kept.stack = e.stack;
  return kept;
}
