import { deriveSeed, Random } from '../random.js';

/**
 * Latent codes for a generative model's pictures: draws from the prior, a straight line between two codes,
 * and a grid over a 2-d latent space. Plain Float32Arrays, decoded by the worker.
 */

/** `n` codes drawn from N(0, I), seeded. */
export function priorSamples(n: number, latent: number, seed: number): Float32Array {
  const random = new Random(deriveSeed(seed, 'prior-samples'));
  const z = new Float32Array(n * latent);
  for (let i = 0; i < z.length; i++) z[i] = random.normal();
  return z;
}

/** `steps` codes evenly spaced on the segment from `a` to `b`, both ends included. */
export function interpolate(a: Float32Array, b: Float32Array, steps: number): Float32Array {
  const z = new Float32Array(steps * a.length);
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    for (let j = 0; j < a.length; j++) z[s * a.length + j] = (1 - t) * a[j] + t * b[j];
  }
  return z;
}

/**
 * An n×n grid over a 2-d latent space, as in the Keras blog's VAE manifold: the prior's quantiles from 5% to
 * 95% on each axis, so the grid covers where the prior puts its mass. Row-major; z2 decreases down the rows.
 */
export function latentGrid(n: number): Float32Array {
  const z = new Float32Array(n * n * 2);
  const q = Array.from({ length: n }, (_, i) => normalQuantile(0.05 + (0.9 * i) / Math.max(1, n - 1)));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      z[(r * n + c) * 2] = q[c];
      z[(r * n + c) * 2 + 1] = q[n - 1 - r];
    }
  }
  return z;
}

/**
 * The standard normal quantile function Φ⁻¹(p), by P. J. Acklam's rational approximation (relative error
 * below 1.2e-9), ample for placing a grid.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
