import { AeflowError } from '../errors.js';
import type { Phase } from '../models/layers.js';
import type { Checkpoint } from '../sinks/checkpoint.js';
import type { ReplicaState } from '../workers/protocol.js';
import type { StreamPosition } from '../types.js';
import type { Totals } from './sums.js';
import type { EpochRecord } from './train.js';

/** Where a run goes on from: the start for a fresh run, the checkpoint's point for a resumed one. */
export interface ResumePoint {
  /** Index of the phase to go on in. */
  readonly phase: number;
  /** Epochs of that phase already completed. */
  readonly phaseEpoch: number;
  /** Epochs completed over the whole run, across phases. */
  readonly epoch: number;
  /** Batches of the next epoch already trained (a stop mid-epoch): its pass skips them, its sums start from `partial`. */
  readonly skipBatches: number;
  readonly partial: Totals | null;
  /** Rows per training epoch, once an epoch has counted them (0 before). */
  readonly knownRows: number;
  /** The completed epochs' records. */
  readonly history: readonly EpochRecord[];
  /** The training state to restore when the phase starts; null for a fresh run. */
  readonly state: ReplicaState | null;
  /** Under early stopping, the best epoch so far and its weights; null for a fresh run or without it. */
  readonly best: { readonly epoch: number; readonly weights: Float32Array[] } | null;
  /** Training from a Redis stream: how far the whole epochs consumed it; null for a fresh run or a file. */
  readonly stream: StreamPosition | null;
}

/** Global epochs completed before each phase starts. */
export function phaseStarts(phases: readonly Phase[]): number[] {
  const starts: number[] = [];
  let total = 0;
  for (const p of phases) {
    starts.push(total);
    total += p.epochs;
  }
  return starts;
}

/**
 * Resume arithmetic: which phase and epoch a run goes on at, and how much of that epoch to skip. Nothing but the
 * checkpoint and the schedule: epochs are counted from the phases (the checkpoint's own `epoch` is for people).
 */
export function resumePoint(checkpoint: Checkpoint | undefined, phases: readonly Phase[]): ResumePoint {
  if (!checkpoint)
    return { phase: 0, phaseEpoch: 0, epoch: 0, skipBatches: 0, partial: null, knownRows: 0, history: [], state: null, best: null, stream: null };
  const { phase, phaseEpoch, batches } = checkpoint;
  const length = phases[phase]?.epochs;
  // A mid-epoch point needs an epoch left in its phase to be in.
  if (length === undefined || phaseEpoch < 0 || phaseEpoch > length || (batches > 0 && phaseEpoch === length)) {
    throw new AeflowError(
      'CHECKPOINT_INVALID',
      `the checkpoint stands in phase ${phase + 1} after ${phaseEpoch} epoch${phaseEpoch === 1 ? '' : 's'} of it${batches > 0 ? ` and ${batches} batches` : ''}, ` +
        `but the pipeline has ${phases.length} phase${phases.length === 1 ? '' : 's'} (${phases.map((p) => `${p.name}: ${p.epochs}`).join(', ')})`,
      "resume with the run's own pipeline.yaml as it was written, or start the run again",
    );
  }
  return {
    phase,
    phaseEpoch,
    epoch: phaseStarts(phases)[phase] + phaseEpoch,
    skipBatches: batches,
    partial: batches > 0 ? checkpoint.partial : null,
    knownRows: checkpoint.knownRows,
    history: checkpoint.metrics as EpochRecord[],
    state: checkpoint.state,
    best: checkpoint.best ?? null,
    stream: checkpoint.stream ?? null,
  };
}
