import { stopReason } from './earlyStopping.js';
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
  /** `train.early_stopping.min_delta`, for the stop's reason. */
  readonly minDelta?: number;
}

/**
 * summary.json from every epoch's record (a resumed run's earlier ones included) and the run's start event: the
 * saved epoch's losses (the last one's, or under early stopping the best one's), the last epoch's sizes,
 * throughput over all epochs' training passes, and why training stopped.
 */
export function buildSummary(epochs: readonly EpochRecord[], start: StartEvent, context: SummaryContext): Summary {
  if (epochs.length === 0) throw new RangeError('a summary needs at least one epoch');
  const last = epochs[epochs.length - 1];
  const stopping = last.earlyStopping;
  const saved = (stopping && epochs.find((e) => e.epoch === stopping.bestEpoch)) || last;
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
    train_loss: saved.trainLoss,
    test_loss: saved.testLoss,
    test_terms: saved.testTerms,
    ...(saved.noisyInputLoss === null ? {} : { noisy_input_loss: saved.noisyInputLoss }),
    ...(last.skipped ? { skipped_rows: last.skipped } : {}),
    saved_epoch: saved.epoch,
    stopped_by: stopping?.stop ? 'early_stopping' : 'epochs',
    stop_reason: stopping?.stop
      ? stopReason(stopping, context.minDelta)
      : `all ${last.epochs} epochs trained${saved === last ? '' : `; the model keeps the best epoch's (${saved.epoch}) weights`}`,
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
