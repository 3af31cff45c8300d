import type { SkippedRows } from '../sources/badRows.js';
import type { EpochRecord, TrainingEvent } from './train.js';

export type StartEvent = Extract<TrainingEvent, { type: 'start' }>;

/** summary.json. */
export interface Summary {
  pipeline: string;
  model: string;
  backend: string;
  /** Whose matMul ran: `native avx512` (aeflow's native kernel on WASM), or the backend's own. */
  matmul: string;
  workers: number;
  epochs: number;
  phases: string[];
  rows: number;
  test_rows: number;
  /** The training objective's name (`half-mse`, `negative-elbo`…): what train_loss and test_loss are. */
  objective: string;
  /** The objective in words, e.g. "half-mse (0.5·mean squared error) of the clean target from the noisy input". */
  test_loss_is: string;
  train_loss: number;
  test_loss: number;
  /** Named parts of the test loss (a VAE's reconstruction and kl). */
  test_terms: Record<string, number>;
  /** With a noise stage: the loss of the noisy test input against the clean one, what doing nothing scores. */
  noisy_input_loss?: number;
  /** Under `on_bad_row: skip`: what each split's last pass skipped (count, first lines, first message). */
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  samples_per_s: number;
  /** The epochs' training passes. */
  train_s: number;
  /** From the start to the saved model (training, test passes, snapshots, saving). */
  to_saved_model_s: number;
  /** The whole run: to the end of the evaluation and the report. */
  wall_s: number;
  parameters: number;
  /** The process's peak resident memory at the saved model, worker threads included. */
  peak_rss_mb: number;
  outputs: Record<string, string>;
  finished_at: string;
}

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
