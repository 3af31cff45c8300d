import type { DDSketch } from '@datadog/sketches-js';
import { defer, finalize, lastValueFrom, mergeMap, type Observable } from 'rxjs';
import { AeflowError } from '../errors.js';
import { batchRows } from '../operators/batchRows.js';
import { shuffleRows, type WindowMemory } from '../operators/shuffleWindow.js';
import type { Batch } from '../rows.js';
import type { BadRows, SkippedRows } from '../sources/badRows.js';
import { FlowControl } from '../sources/flowControl.js';
import type { Inference } from '../workers/inference.js';
import type { RowStatistics } from '../workers/inferenceProtocol.js';
import { type DataSource, dataRows } from './dataflow.js';
import type { EvaluationStage } from '../types.js';

export type { EvaluationStage } from '../types.js';

/** Rows per request to a worker. Large, so that each batch's matrix products run at full speed. */
const BATCH = 512;

/** What the training pass found. */
export interface TrainingPass {
  readonly statistics: RowStatistics;
  readonly sketch: DDSketch;
  /** The training labels' distinct values, ascending; null when some row has none. */
  readonly classes: number[] | null;
  readonly skipped: SkippedRows;
}

export interface PassOptions {
  readonly name: string;
  readonly badRows?: BadRows;
  readonly progress?: (stage: EvaluationStage) => void;
  /** Rows of the split when known (after the first pass), for the progress fraction. */
  readonly rows?: number;
  /** Shuffles the rows through a seeded window of this many rows (in `memory`, shared by passes one after another). */
  readonly shuffle?: { window: number; seed: number; memory: WindowMemory };
  /** Rows per request to a worker (512 by default). */
  readonly batch?: number;
  /** What the model is called in a width mismatch's message (`encoder` for encode). */
  readonly modelName?: string;
}

/**
 * One pass over a split: its rows through the common dataflow (row cache, normalization) in batches, each handed
 * to `handle`, with as many in flight as keep the workers busy; the reader pauses while they are all taken. A
 * batch's values are in shared memory that is reused once `handle` resolves: requests read them, never move them.
 */
export async function streamBatches(inference: Inference, source: DataSource, pass: PassOptions, handle: (batch: Batch) => Promise<void>): Promise<void> {
  const flow = new FlowControl(2 * inference.workers);
  let done = 0;
  let fraction = Number.NaN;
  const rows$: Observable<Batch> = dataRows(source, {
    flow,
    badRows: pass.badRows,
    // Only a pass that reports progress asks the reader for it: the callback runs on every chunk read.
    progress: pass.progress ? (read, total) => (fraction = read / total) : undefined,
  }).pipe(
    pass.shuffle ? shuffleRows(pass.shuffle.window, pass.shuffle.seed, pass.shuffle.memory) : (r) => r,
    batchRows(pass.batch ?? BATCH, inference.allocate),
  );
  await lastValueFrom(
    rows$.pipe(
      mergeMap((b) => {
        if (b.cols !== inference.inputs) throw widthMismatch(source.file, b.cols, inference.inputs, pass.modelName);
        flow.acquire();
        return defer(() => handle(b)).pipe(
          finalize(() => {
            inference.release(b.x);
            flow.release();
            done += b.rows;
            pass.progress?.({ name: pass.name, rows: done, fraction: pass.rows ? done / pass.rows : fraction });
          }),
        );
      }, 2 * inference.workers),
    ),
    { defaultValue: undefined },
  );
}

export function widthMismatch(file: string, cols: number, inputs: number, what = 'model'): AeflowError {
  return new AeflowError(
    'MODEL_INPUT_MISMATCH',
    `${file} has ${cols} feature columns, the ${what} takes ${inputs}`,
    'check the label column (--label-column) and that this is the data the model was trained on',
  );
}

/**
 * Runs each batch's work at once and its writing in the batches' order: `write(work, w)` waits for the writes
 * of the batches before it, so a pass with several workers still writes its rows in input order.
 *
 * @example
 * const write = inOrder();
 * streamBatches(inference, source, pass, (b) => write(inference.encode(b.x, b.rows), (z) => out.write(z)));
 */
export function inOrder(): <T>(work: Promise<T>, write: (result: T) => Promise<void>) => Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  return (work, write) => {
    const before = previous;
    previous = (async () => {
      const result = await work;
      await before;
      await write(result);
    })();
    return previous;
  };
}
