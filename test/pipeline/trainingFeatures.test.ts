import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/load.js';
import type { AeflowError } from '../../src/errors.js';
import { fixture } from '../helpers.js';
import { checkpointsOf, epochsOf, runFake } from './fakeTrainer.js';

// tiny.yaml: 6 batches per epoch, optimizer.learning_rate 0.02. The expected rates are the closed forms of
// README's table, computed here step by step, not by the schedule module.
const BATCHES = 6;
const LR = 0.02;

describe('learning-rate schedules in a training run (fake trainer)', () => {
  it('every step gets the step schedule with warm-up, and metrics record each epoch’s last rate and the steps', async () => {
    const { error, trainer, events } = await runFake('tiny.yaml', [
      'train.epochs=5',
      'train.schedule={type: step, every_epochs: 2, gamma: 0.5, warmup_steps: 8}',
    ]);
    expect(error).toBeNull();
    const expected = Array.from({ length: 5 * BATCHES }, (_, s) => {
      const epoch = Math.floor(s / BATCHES) + 1;
      return LR * 0.5 ** Math.floor((epoch - 1) / 2) * Math.min(1, (s + 1) / 8);
    });
    expect(trainer.rates).toHaveLength(expected.length);
    for (const [s, r] of trainer.rates.entries()) expect(r).toBeCloseTo(expected[s], 15);
    const epochs = epochsOf(events);
    expect(epochs.map((e) => e.steps)).toEqual([6, 12, 18, 24, 30]);
    expect(epochs.map((e) => e.lr)).toEqual(epochs.map((e) => trainer.rates[e.steps - 1]));
  });

  it('cosine goes from the base rate in the first epoch to min_lr in the last', async () => {
    const { trainer } = await runFake('tiny.yaml', ['train.epochs=5', 'train.schedule={type: cosine, min_lr: 0.002}']);
    const perEpoch = [0, 1, 2, 3, 4].map((e) => trainer.rates.slice(e * BATCHES, (e + 1) * BATCHES));
    for (const [e, rates] of perEpoch.entries()) {
      const closed = 0.002 + (LR - 0.002) * 0.5 * (1 + Math.cos((Math.PI * e) / 4));
      for (const r of rates) expect(r).toBeCloseTo(closed, 15);
    }
    expect(perEpoch[0][0]).toBe(LR);
    expect(perEpoch[4][5]).toBeCloseTo(0.002, 15);
  });

  it('without a schedule every step trains at optimizer.learning_rate exactly', async () => {
    const { trainer } = await runFake('tiny.yaml', ['train.epochs=2']);
    expect(new Set(trainer.rates)).toEqual(new Set([LR]));
  });

  it('each phase of a stacked run starts its schedule (and warm-up) anew', async () => {
    const { trainer, events } = await runFake('tiny-stacked.yaml', ['train.schedule={type: step, every_epochs: 1, gamma: 0.5, warmup_steps: 2}']);
    const { config } = await loadPipeline(fixture('tiny-stacked.yaml'));
    const lr = config.optimizer.learning_rate;
    let offset = 0;
    for (const phase of epochsOf(events)
      .filter((e) => e.phaseEpoch === 1)
      .map((e) => e.phase)) {
      const epochs = epochsOf(events).filter((e) => e.phase === phase).length;
      const rates = trainer.rates.slice(offset, offset + epochs * BATCHES);
      expect(rates.slice(0, 3)).toEqual([lr / 2, lr, lr]);
      expect(rates[BATCHES]).toBe(lr * 0.5);
      offset += rates.length;
    }
    expect(offset).toBe(trainer.rates.length);
  });

  it('a run stopped mid-epoch resumes its schedule at the step it had reached', async () => {
    const extra = ['train.epochs=4', 'train.schedule={type: step, every_epochs: 1, gamma: 0.7, warmup_steps: 10}'];
    const whole = await runFake('tiny.yaml', extra);
    const abort = new AbortController();
    const stopped = await runFake('tiny.yaml', extra, { afterStep: (n) => n === 8 && abort.abort() }, { signal: abort.signal });
    expect((stopped.error as AeflowError).code).toBe('INTERRUPTED');
    const checkpoint = checkpointsOf(stopped.events).at(-1)!;
    expect(checkpoint.batches).toBeGreaterThan(0);
    const resumed = await runFake('tiny.yaml', extra, {}, { resume: checkpoint });
    expect(resumed.error).toBeNull();
    expect([...stopped.trainer.rates, ...resumed.trainer.rates]).toEqual(whole.trainer.rates);
    // and from an epoch's end too
    const atEpoch = checkpointsOf(whole.events).find((c) => c.epoch === 2)!;
    const again = await runFake('tiny.yaml', extra, {}, { resume: atEpoch });
    expect(again.trainer.rates).toEqual(whole.trainer.rates.slice(2 * BATCHES));
  });
});

describe('early stopping in a training run (fake trainer)', () => {
  // The fake's test loss after s steps: falls to its lowest after epoch 2 (12 steps), then rises.
  const valley = { testLoss: (steps: number) => (steps / BATCHES - 2) ** 2 + 1 };
  const extra = ['train.epochs=8', 'train.early_stopping={patience: 2}'];

  it("stops `patience` epochs after the best one, and hands over the best epoch's weights", async () => {
    const { error, trainer, events } = await runFake('tiny.yaml', extra, valley);
    expect(error).toBeNull();
    const epochs = epochsOf(events);
    expect(epochs.map((e) => e.testLoss)).toEqual([2, 1, 2, 5]);
    expect(epochs.map((e) => e.earlyStopping)).toEqual([
      { bestEpoch: 1, bestTestLoss: 2, epochsSinceBest: 0, stop: false },
      { bestEpoch: 2, bestTestLoss: 1, epochsSinceBest: 0, stop: false },
      { bestEpoch: 2, bestTestLoss: 1, epochsSinceBest: 1, stop: false },
      { bestEpoch: 2, bestTestLoss: 1, epochsSinceBest: 2, stop: true },
    ]);
    // the fake's weights are its step count: after the stop it is put back to epoch 2's
    expect(trainer.trained).toHaveLength(4 * BATCHES);
    expect(trainer.calls.at(-1)).toBe(`restore ${2 * BATCHES}`);
    expect(trainer.steps).toBe(2 * BATCHES);
    const end = events.at(-1) as Extract<(typeof events)[number], { type: 'end' }>;
    expect(end.final.epoch).toBe(2);
    // the stop epoch is the run's last: it is logged and checkpointed with the best weights beside the state
    expect(epochs.at(-1)!.log).toBe(true);
    const last = checkpointsOf(events).at(-1)!;
    expect(last.epoch).toBe(4);
    expect(last.best).toEqual({ epoch: 2, weights: [Float32Array.of(2 * BATCHES)] });
  });

  it('min_delta: an improvement smaller than it does not count', async () => {
    // epochs' test losses 1, 0.95, 0.9, ...: better each time, by 0.05
    const slow = { testLoss: (steps: number) => 1 - (0.05 * (steps - BATCHES)) / BATCHES };
    const strict = await runFake('tiny.yaml', ['train.epochs=6', 'train.early_stopping={patience: 1, min_delta: 0.06}'], slow);
    expect(epochsOf(strict.events).map((e) => e.epoch)).toEqual([1, 2]);
    expect(strict.trainer.steps).toBe(BATCHES);
    const loose = await runFake('tiny.yaml', ['train.epochs=6', 'train.early_stopping={patience: 2, min_delta: 0.04}'], slow);
    expect(epochsOf(loose.events).map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    // the last epoch was the best: nothing to put back
    expect(loose.trainer.calls.filter((c) => c.startsWith('restore'))).toEqual([]);
  });

  it('a run resumed before the stop goes on to the same stop and restores the best weights from the checkpoint', async () => {
    const whole = await runFake('tiny.yaml', extra, valley);
    const afterThree = checkpointsOf(whole.events).find((c) => c.epoch === 3)!;
    const resumed = await runFake('tiny.yaml', extra, valley, { resume: afterThree });
    expect(resumed.error).toBeNull();
    expect(epochsOf(resumed.events).map((e) => [e.epoch, e.earlyStopping?.stop])).toEqual([[4, true]]);
    expect(resumed.trainer.steps).toBe(2 * BATCHES);
    // resumed after the stop itself: no epoch left to train, the best weights still put back
    const afterStop = checkpointsOf(whole.events).at(-1)!;
    const done = await runFake('tiny.yaml', extra, valley, { resume: afterStop });
    expect(epochsOf(done.events)).toEqual([]);
    expect(done.trainer.steps).toBe(2 * BATCHES);
  });

  it('without early stopping the run trains every epoch and keeps the last weights', async () => {
    const { trainer, events } = await runFake('tiny.yaml', ['train.epochs=8'], valley);
    expect(epochsOf(events)).toHaveLength(8);
    expect(epochsOf(events).every((e) => e.earlyStopping === null)).toBe(true);
    expect(trainer.steps).toBe(8 * BATCHES);
  });
});
