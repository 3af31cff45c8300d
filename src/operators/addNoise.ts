import { defer, map, type OperatorFunction } from 'rxjs';
import { Random } from '../random.js';
import type { Row } from '../rows.js';

export type NoiseKind = 'gaussian' | 'masking' | 'salt-pepper';

export interface NoiseOptions {
  readonly kind: NoiseKind;
  /** Standard deviation of gaussian noise. */
  readonly stddev?: number;
  /** Share of values masked to 0 (masking) or set to the low / high end of the range (salt-pepper). */
  readonly fraction?: number;
  /** The data's range: noisy values are clipped to it, salt and pepper are its ends. Null: no clipping. */
  readonly range: readonly [number, number] | null;
}

/**
 * Corrupts each row's values for a denoising autoencoder, keeping the clean values as the row's `target`, so
 * the model sees the noisy input and its loss compares with the clean one. Kinds: `gaussian` adds N(0, stddev²);
 * `masking` sets a `fraction` of values to 0; `salt-pepper` sets a `fraction` to the range's low or high end
 * (half each). Results are clipped to `range`. The same seed gives the same noise.
 *
 * @example
 * rows$.pipe(normalize(255), addNoise({ kind: 'gaussian', stddev: 0.5, range: [0, 1] }, deriveSeed(seed, 'noise', epoch)))
 *
 * @param options kind, amount and range
 * @param seed seed of the noise generator
 */
export function addNoise(options: NoiseOptions, seed: number): OperatorFunction<Row, Row> {
  const { kind, range } = options;
  const [low, high] = range ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const amount = kind === 'gaussian' ? (options.stddev ?? 0) : (options.fraction ?? 0);
  if (!(amount >= 0) || (kind !== 'gaussian' && amount > 1))
    throw new RangeError(`${kind} noise amount must be ${kind === 'gaussian' ? '>= 0' : 'in [0, 1]'}, got ${amount}`);
  if (kind === 'salt-pepper' && range === null) throw new RangeError('salt-pepper noise needs a range (its low and high ends)');
  // A generator per subscription: every pass draws the same noise for the same seed.
  return (source) =>
    defer(() => {
      const random = new Random(seed);
      return source.pipe(map((row) => corrupt(row, random)));
    });

  function corrupt(row: Row, random: Random): Row {
    const x = row.x;
    const noisy = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let v = x[i];
      if (kind === 'gaussian') v += amount * random.normal();
      else if (random.next() < amount) v = kind === 'masking' ? 0 : random.next() < 0.5 ? low : high;
      noisy[i] = Math.min(Math.max(v, low), high);
    }
    return { ...row, x: noisy, target: row.target ?? x };
  }
}
