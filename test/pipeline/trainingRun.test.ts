import { describe, expect, it } from 'vitest';
import { AeflowError } from '../../src/errors.js';
import type { EpochRecord, TrainingEvent } from '../../src/pipeline/train.js';
import { checkpointsOf, checksum, epochsOf, runFake } from './fakeTrainer.js';

/** What must match between two runs: everything but clocks and memory. */
const figures = (e: EpochRecord) => ({
  epoch: e.epoch,
  phase: e.phase,
  phaseEpoch: e.phaseEpoch,
  trainLoss: e.trainLoss,
  testLoss: e.testLoss,
  rows: e.rows,
  testRows: e.testRows,
  log: e.log,
});

describe('TrainingRun with a fake trainer', () => {
  it('runs the phases and their epochs in order, numbering epochs across phases', async () => {
    const { events, error, trainer } = await runFake('tiny-stacked.yaml');
    expect(error).toBeNull();
    const shape = events
      .filter((e) => e.type !== 'batch' && e.type !== 'checkpoint')
      .map((e) => (e.type === 'phase' ? `phase ${e.phase.name}` : e.type === 'epoch' ? `epoch ${e.epoch} ${e.phase} ${e.phaseEpoch}` : e.type));
    expect(shape).toEqual([
      'start',
      'phase layer-1',
      'epoch 1 layer-1 1',
      'epoch 2 layer-1 2',
      'epoch 3 layer-1 3',
      'epoch 4 layer-1 4',
      'phase layer-2',
      'epoch 5 layer-2 1',
      'epoch 6 layer-2 2',
      'epoch 7 layer-2 3',
      'phase fine-tune',
      'epoch 8 fine-tune 1',
      'epoch 9 fine-tune 2',
      'end',
    ]);
    expect(trainer.calls.filter((c) => c.startsWith('phase'))).toEqual(['phase 1', 'phase 2', 'phase null']);
    // each phase says what its losses measure: a greedy layer its own input
    const objectives = events.filter((e) => e.type === 'phase').map((e) => (e as Extract<TrainingEvent, { type: 'phase' }>).objective.description);
    expect(objectives[0]).toContain("greedy layer 1's own input (the rows)");
    expect(objectives[1]).toContain("greedy layer 2's own input (the codes of encoder layer 1)");
    expect(objectives[2]).toContain("of each row's reconstruction");
    // every epoch trains on all 6 batches, and every epoch's checkpoint (checkpoints.every: 1) stands at its end
    expect(trainer.trained).toHaveLength(9 * 6);
    expect(checkpointsOf(events).map((c) => [c.epoch, c.phase, c.phaseEpoch, c.batches])).toEqual([
      [1, 0, 1, 0],
      [2, 0, 2, 0],
      [3, 0, 3, 0],
      [4, 0, 4, 0],
      [5, 1, 1, 0],
      [6, 1, 2, 0],
      [7, 1, 3, 0],
      [8, 2, 1, 0],
      [9, 2, 2, 0],
    ]);
    const start = events[0] as Extract<TrainingEvent, { type: 'start' }>;
    expect(start.phases.map((p) => p.name)).toEqual(['layer-1', 'layer-2', 'fine-tune']);
    expect(start.objective.id).toBe('half-mse');
  });

  it("an epoch's train loss is the row-weighted mean of its batches' losses; batch events count the rows up", async () => {
    const losses: number[] = [];
    const loss = (step: number, natural: number) => {
      losses.push(natural + step);
      return natural + step;
    };
    const { events, error } = await runFake('tiny.yaml', ['train.epochs=2'], { loss });
    expect(error).toBeNull();
    const epochs = epochsOf(events);
    // 96 rows in batches of 16: six equal batches per epoch
    expect(epochs[0].trainLoss).toBeCloseTo(losses.slice(0, 6).reduce((a, b) => a + b, 0) / 6, 12);
    expect(epochs[1].trainLoss).toBeCloseTo(losses.slice(6, 12).reduce((a, b) => a + b, 0) / 6, 12);
    const rows = events.filter((e) => e.type === 'batch').map((e) => (e as { rows: number }).rows);
    expect(rows).toEqual([16, 32, 48, 64, 80, 96, 16, 32, 48, 64, 80, 96]);
    expect(epochs.map((e) => [e.rows, e.testRows, e.tensors])).toEqual([
      [96, 32, 7],
      [96, 32, 7],
    ]);
  });

  it('a loss that is not finite raises TRAINING_DIVERGED, naming the epoch and batch, and closes the trainer', async () => {
    const { error, trainer } = await runFake('tiny.yaml', ['train.epochs=3'], { loss: (step, natural) => (step === 8 ? Number.NaN : natural) });
    expect(error).toBeInstanceOf(AeflowError);
    expect((error as AeflowError).code).toBe('TRAINING_DIVERGED');
    expect((error as AeflowError).message).toBe('the training loss became NaN at epoch 2, batch 2');
    expect(trainer.closed).toBe(1);
  });

  it('a stop mid-epoch writes a checkpoint of that point; resuming from it skips the batches trained and ends as the run left alone', async () => {
    const extra = ['train.epochs=4'];
    const whole = await runFake('tiny.yaml', extra);
    expect(whole.error).toBeNull();

    const abort = new AbortController();
    const stopped = await runFake('tiny.yaml', extra, { afterStep: (n) => n === 9 && abort.abort() }, { signal: abort.signal });
    expect((stopped.error as AeflowError).code).toBe('INTERRUPTED');
    // the steps already asked for when the stop came still count; the epoch's rest is left
    const inEpoch = stopped.trainer.trained.length - 6;
    expect(inEpoch).toBeGreaterThanOrEqual(3);
    expect(inEpoch).toBeLessThan(6);
    expect((stopped.error as AeflowError).message).toBe(`stopped at epoch 2, after ${inEpoch} batches of it; a checkpoint of that point was written`);
    const checkpoint = checkpointsOf(stopped.events).at(-1)!;
    expect(checkpoint).toMatchObject({ epoch: 1, phase: 0, phaseEpoch: 1, batches: inEpoch, knownRows: 96 });
    expect(checkpoint.partial.rows).toBe(16 * inEpoch);
    expect(checkpoint.state.weights[0][0]).toBe(stopped.trainer.trained.length);
    expect(checkpoint.metrics).toHaveLength(1);
    expect(stopped.trainer.closed).toBe(1);

    const resumed = await runFake('tiny.yaml', extra, {}, { resume: checkpoint });
    expect(resumed.error).toBeNull();
    expect(resumed.trainer.calls[0]).toBe(`restore ${stopped.trainer.trained.length}`);
    expect(resumed.trainer.trained).toEqual(whole.trainer.trained.slice(stopped.trainer.trained.length));
    expect(epochsOf(resumed.events).map(figures)).toEqual(epochsOf(whole.events).slice(1).map(figures));
    // the resumed epoch's batch events go on counting from the rows trained before the stop
    expect((resumed.events.find((e) => e.type === 'batch') as { rows: number }).rows).toBe(16 * (inEpoch + 1));
  });

  it("a stop that comes with an epoch's last batch finishes that epoch: stopped after epoch 1, one checkpoint at its end", async () => {
    const extra = ['train.epochs=3'];
    const whole = await runFake('tiny.yaml', extra);
    const abort = new AbortController();
    const stopped = await runFake('tiny.yaml', extra, { afterStep: (n) => n === 6 && abort.abort() }, { signal: abort.signal });
    expect((stopped.error as AeflowError).message).toBe('stopped after epoch 1; a checkpoint of that point was written');
    expect(epochsOf(stopped.events).map((e) => e.epoch)).toEqual([1]);
    const checkpoints = checkpointsOf(stopped.events);
    expect(checkpoints.map((c) => [c.epoch, c.phaseEpoch, c.batches])).toEqual([[1, 1, 0]]);
    const resumed = await runFake('tiny.yaml', extra, {}, { resume: checkpoints[0] });
    expect(resumed.trainer.trained).toEqual(whole.trainer.trained.slice(6));
    expect(epochsOf(resumed.events).map(figures)).toEqual(epochsOf(whole.events).slice(1).map(figures));
  });

  it('with checkpoints.every: 0 a stop between epochs still writes one', async () => {
    const abort = new AbortController();
    const stopped = await runFake(
      'tiny.yaml',
      ['train.epochs=3', 'checkpoints.every=0'],
      { afterStep: (n) => n === 12 && abort.abort() },
      { signal: abort.signal },
    );
    expect((stopped.error as AeflowError).message).toBe('stopped after epoch 2; a checkpoint of that point was written');
    expect(checkpointsOf(stopped.events).map((c) => [c.epoch, c.phaseEpoch, c.batches])).toEqual([[2, 2, 0]]);
  });

  it('resuming a stacked run in its second phase restores the state there and trains only what was left', async () => {
    const whole = await runFake('tiny-stacked.yaml');
    const checkpoint = checkpointsOf(whole.events).find((c) => c.epoch === 5)!;
    const resumed = await runFake('tiny-stacked.yaml', [], {}, { resume: checkpoint });
    expect(resumed.trainer.calls.filter((c) => !c.startsWith('state'))).toEqual(['phase 2', `restore ${5 * 6}`, 'phase null']);
    expect(resumed.trainer.trained).toEqual(whole.trainer.trained.slice(5 * 6));
    expect(epochsOf(resumed.events).map(figures)).toEqual(epochsOf(whole.events).slice(5).map(figures));
  });

  it('checksums tell batches apart (the resume tests above rely on it)', () => {
    expect(checksum(Float32Array.of(1, 2))).not.toBe(checksum(Float32Array.of(2, 1)));
  });
});
