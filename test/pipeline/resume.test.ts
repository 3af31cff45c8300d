import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/models/layers.js';
import { phaseStarts, resumePoint } from '../../src/pipeline/resume.js';
import { CHECKPOINT_VERSION, type Checkpoint } from '../../src/sinks/checkpoint.js';

const stacked: Phase[] = [
  { name: 'layer-1', epochs: 3, layer: 1 },
  { name: 'layer-2', epochs: 2, layer: 2 },
  { name: 'fine-tune', epochs: 4, layer: null },
];
const state = { weights: [Float32Array.of(1)], optimizer: [], adamPowers: null, draws: 3 };
const checkpoint = (at: Partial<Checkpoint>): Checkpoint => ({
  version: CHECKPOINT_VERSION,
  epoch: 0,
  phase: 0,
  phaseEpoch: 0,
  batches: 0,
  partial: { rows: 0, loss: 0, terms: {} },
  knownRows: 96,
  metrics: [{ epoch: 1 }],
  state,
  written: '2026-01-01T00:00:00.000Z',
  ...at,
});

describe('resume arithmetic', () => {
  it('a fresh run starts at the first phase with nothing to skip', () => {
    expect(resumePoint(undefined, stacked)).toEqual({
      phase: 0,
      phaseEpoch: 0,
      epoch: 0,
      skipBatches: 0,
      partial: null,
      knownRows: 0,
      history: [],
      state: null,
      best: null,
      stream: null,
    });
  });

  it("a stream's position comes back as the checkpoint recorded it, mid-epoch too (the epoch's entries are read again)", () => {
    const stream = { lastId: '1700000000000-95', lastEpochFrom: '0-0', entries: 96 };
    const at = resumePoint(checkpoint({ phase: 2, phaseEpoch: 1, epoch: 6, batches: 2, stream }), stacked);
    expect(at).toMatchObject({ skipBatches: 2, stream });
    expect(resumePoint(checkpoint({ phase: 0, phaseEpoch: 1, epoch: 1 }), stacked).stream).toBeNull();
  });

  it('counts global epochs from the phases before the checkpoint’s', () => {
    expect(phaseStarts(stacked)).toEqual([0, 3, 5]);
    const at = resumePoint(checkpoint({ phase: 2, phaseEpoch: 1, epoch: 6 }), stacked);
    expect(at).toMatchObject({ phase: 2, phaseEpoch: 1, epoch: 6, skipBatches: 0, partial: null, knownRows: 96, state });
    expect(at.history).toEqual([{ epoch: 1 }]);
  });

  it('a stop mid-epoch: skip the batches trained, start the sums from the partial ones', () => {
    const partial = { rows: 48, loss: 1.5, terms: { kl: 0.25 } };
    const at = resumePoint(checkpoint({ phase: 1, phaseEpoch: 1, batches: 3, partial, epoch: 4 }), stacked);
    expect(at).toMatchObject({ phase: 1, phaseEpoch: 1, epoch: 4, skipBatches: 3, partial });
  });

  it('a checkpoint at the end of a phase goes on with the next phase (no epochs left in its own)', () => {
    expect(resumePoint(checkpoint({ phase: 0, phaseEpoch: 3, epoch: 3 }), stacked)).toMatchObject({ phase: 0, phaseEpoch: 3, epoch: 3, skipBatches: 0 });
  });

  it('a checkpoint that does not fit the schedule is CHECKPOINT_INVALID, not a silent misstep', () => {
    for (const at of [{ phase: 3 }, { phase: 1, phaseEpoch: 3 }, { phase: 0, phaseEpoch: 3, batches: 2 }]) {
      expect(() => resumePoint(checkpoint(at), stacked), JSON.stringify(at)).toThrow(expect.objectContaining({ code: 'CHECKPOINT_INVALID' }));
    }
    expect(() => resumePoint(checkpoint({ phase: 3 }), stacked)).toThrow(/phase 4 .* but the pipeline has 3 phases \(layer-1: 3, layer-2: 2, fine-tune: 4\)/);
  });
});
