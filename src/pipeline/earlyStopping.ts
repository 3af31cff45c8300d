import type { EarlyStoppingStatus } from '../types.js';

export type { EarlyStoppingStatus } from '../types.js';

/** What `train.early_stopping` says (see config/schema.ts). */
export interface EarlyStoppingSpec {
  readonly patience: number;
  readonly min_delta: number;
}

/**
 * Early stopping on the test loss: an epoch is better when its test loss is below the best so far by more than
 * `min_delta`; after `patience` epochs in a row that are not, training stops. Pure bookkeeping: the run keeps the
 * best epoch's weights and decides what to do with the verdict.
 */
export class EarlyStopping {
  private best = 0;
  private bestLoss = Number.POSITIVE_INFINITY;
  private since = 0;

  constructor(private readonly spec: EarlyStoppingSpec) {}

  /** The bookkeeping after `epochs` (a resumed run's earlier epochs of the watched phase), without their weights. */
  static replay(spec: EarlyStoppingSpec, epochs: ReadonlyArray<{ readonly epoch: number; readonly testLoss: number }>): EarlyStopping {
    const stopping = new EarlyStopping(spec);
    for (const e of epochs) stopping.observe(e.epoch, e.testLoss);
    return stopping;
  }

  /** Takes an epoch's test loss: `better` (a new best: keep its weights), `worse`, or `stop`. */
  observe(epoch: number, testLoss: number): 'better' | 'worse' | 'stop' {
    // The first epoch is the best so far whatever its loss; a NaN is never better.
    if (this.best === 0 || testLoss < this.bestLoss - this.spec.min_delta) {
      this.best = epoch;
      this.bestLoss = testLoss;
      this.since = 0;
      return 'better';
    }
    this.since++;
    return this.stopped ? 'stop' : 'worse';
  }

  get stopped(): boolean {
    return this.since >= this.spec.patience;
  }

  /** The best epoch (0 before any) and its test loss, epochs since it, whether training stops here. */
  status(): EarlyStoppingStatus {
    return { bestEpoch: this.best, bestTestLoss: this.bestLoss, epochsSinceBest: this.since, stop: this.stopped };
  }
}

/** Why early stopping stopped a run, in a sentence (the epochs since the best are the patience, at a stop). */
export function stopReason(status: EarlyStoppingStatus, minDelta = 0): string {
  const patience = status.epochsSinceBest;
  const by = minDelta > 0 ? ` by more than ${minDelta}` : '';
  return (
    `early stopping: the test loss did not improve${by} on epoch ${status.bestEpoch}'s ${status.bestTestLoss.toPrecision(5)} ` +
    `for ${patience} epoch${patience === 1 ? '' : 's'}; the model keeps epoch ${status.bestEpoch}'s weights`
  );
}
