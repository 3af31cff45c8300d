import type { EpochRecord, TrainingEvent } from './train.js';
import type { Summary } from '../types.js';

export type { Summary } from '../types.js';

export type StartEvent = Extract<TrainingEvent, { type: 'start' }>;

/** What the summary takes from outside the training events. */
export interface SummaryContext {
  readonly model: string;
  readonly outputs: Record<string, string>;
  /** Seconds from the start to the saved model, and for the whole run so far. */
  readonly toSavedModelS: number;
  readonly wallS: number;
  readonly peakRssMb: number;
  readonly finishedAt: string;
}

/**
 * summary.json from every epoch's record (a resumed run's earlier ones included) and the run's start event: the
 * last epoch's losses and sizes, throughput over all epochs' training passes.
 */
export function buildSummary(epochs: readonly EpochRecord[], start: StartEvent, context: SummaryContext): Summary {
  if (epochs.length === 0) throw new RangeError('a summary needs at least one epoch');
  const last = epochs[epochs.length - 1];
  const trainSeconds = epochs.reduce((s, e) => s + e.seconds, 0);
  return {
    pipeline: start.pipeline,
    model: context.model,
    backend: start.backend,
    matmul: start.matMul,
    workers: start.workers,
    epochs: epochs.length,
    phases: start.phases.map((p) => p.name),
    rows: last.rows,
    test_rows: last.testRows,
    objective: start.objective.id,
    test_loss_is: start.objective.description,
    train_loss: last.trainLoss,
    test_loss: last.testLoss,
    test_terms: last.testTerms,
    ...(last.noisyInputLoss === null ? {} : { noisy_input_loss: last.noisyInputLoss }),
    ...(last.skipped ? { skipped_rows: last.skipped } : {}),
    samples_per_s: Math.round(epochs.reduce((n, e) => n + e.rows, 0) / trainSeconds),
    train_s: round(trainSeconds, 2),
    to_saved_model_s: round(context.toSavedModelS, 2),
    wall_s: round(context.wallS, 2),
    parameters: start.parameters,
    peak_rss_mb: context.peakRssMb,
    outputs: context.outputs,
    finished_at: context.finishedAt,
  };
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
