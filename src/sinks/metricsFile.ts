import { appendFileSync, writeFileSync } from 'node:fs';
import type { EpochRecord } from '../types.js';

/** metrics.jsonl: one JSON object per epoch, appended as epochs end, so a crash keeps what was measured. */
export class MetricsFile {
  constructor(readonly file: string) {
    writeFileSync(file, '');
  }

  append(e: EpochRecord): void {
    const line: Record<string, number | string | null> = {
      epoch: e.epoch,
      phase: e.phase,
      phase_epoch: e.phaseEpoch,
      train_loss: e.trainLoss,
      test_loss: e.testLoss,
    };
    for (const [name, v] of Object.entries(e.trainTerms)) line[`train_${name}`] = v;
    for (const [name, v] of Object.entries(e.testTerms)) line[`test_${name}`] = v;
    if (e.noisyInputLoss !== null) line.noisy_input_loss = e.noisyInputLoss;
    if (e.skipped) {
      line.skipped_train_rows = e.skipped.train.count;
      line.skipped_test_rows = e.skipped.test.count;
    }
    line.lr = e.lr;
    line.steps = e.steps;
    if (e.earlyStopping) {
      line.best_epoch = e.earlyStopping.bestEpoch;
      line.epochs_since_best = e.earlyStopping.epochsSinceBest;
      line.stop = e.earlyStopping.stop ? 'early_stopping' : null;
    }
    Object.assign(line, {
      seconds: Math.round(e.seconds * 1000) / 1000,
      samples_per_s: Math.round(e.samplesPerS),
      rows: e.rows,
      test_rows: e.testRows,
      tensors: e.tensors,
      rss_mb: e.rssMb,
    });
    appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}
