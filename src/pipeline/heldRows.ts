import { Pca } from '../models/pca.js';
import type { Batch } from '../rows.js';
import { Reservoir } from './reservoir.js';

/** The test rows an evaluation holds: all of them, or a seeded uniform sample of at most `capacity`. */
export interface HeldTestRows {
  readonly rows: number;
  /** rows × inputs, normalized as the model sees them, in shared memory: the probes' workers read their shares in place. */
  readonly x: Float32Array;
  /** One per row, NaN where a row has none. */
  readonly labels: Float32Array;
  /** Whether every held row has a label. */
  readonly labelled: boolean;
  readonly errors: Float32Array;
  /** rows × code size. */
  readonly codes: Float32Array;
  /** Bytes the held rows take: the same whatever the test split's size beyond `capacity`. */
  readonly bytes: number;
}

/**
 * Holds test rows as they stream by (values before they go to a worker, errors and codes when it answers), in
 * arrays of at most `capacity` rows: memory set by the capacity, not the file. `atMost` bounds the rows the split
 * can have (from its size in bytes): the arrays start that large, since each growth leaves a copy for the
 * collector (growing by doubling to 10,000 rows of 784 values left ~50 MB of them).
 */
export function holdTestRows(capacity: number, inputs: number, codeSize: number, seed: number, atMost = 1024) {
  const reservoir = new Reservoir(capacity, seed);
  // Grown as rows arrive if `atMost` was too low, up to the capacity.
  let size = Math.max(1, Math.min(capacity, atMost));
  let x: Float32Array<ArrayBufferLike> = resized(new Float32Array(0), size * inputs, 0, true);
  let labels: Float32Array<ArrayBufferLike> = new Float32Array(size).fill(Number.NaN);
  let errors: Float32Array<ArrayBufferLike> = new Float32Array(size);
  let codes: Float32Array<ArrayBufferLike> = new Float32Array(size * codeSize);
  const grow = (slot: number) => {
    if (slot < size) return;
    size = Math.min(capacity, Math.max(2 * size, slot + 1));
    x = resized(x, size * inputs, 0, true);
    labels = resized(labels, size, Number.NaN);
    errors = resized(errors, size);
    codes = resized(codes, size * codeSize);
  };
  return {
    /** Takes the batch's rows that the sample keeps; returns [slot, item] per row (slot -1: not kept). */
    offer(b: Batch): Int32Array[] {
      const slots = new Int32Array(b.rows);
      const items = new Int32Array(b.rows);
      for (let r = 0; r < b.rows; r++) {
        items[r] = reservoir.seen;
        const slot = reservoir.offer();
        slots[r] = slot;
        if (slot < 0) continue;
        grow(slot);
        x.set(b.x.subarray(r * inputs, (r + 1) * inputs), slot * inputs);
        labels[slot] = b.labels ? b.labels[r] : Number.NaN;
      }
      return [slots, items];
    },
    /** The worker's answer for an offered batch: kept only where the slot still holds that row. */
    fill([slots, items]: Int32Array[], rowErrors: Float32Array, rowCodes: Float32Array): void {
      for (let r = 0; r < slots.length; r++) {
        const slot = slots[r];
        if (slot < 0 || !reservoir.holds(slot, items[r])) continue;
        errors[slot] = rowErrors[r];
        codes.set(rowCodes.subarray(r * codeSize, (r + 1) * codeSize), slot * codeSize);
      }
    },
    done(): HeldTestRows {
      const n = reservoir.size;
      const held = {
        rows: n,
        x: x.subarray(0, n * inputs),
        labels: labels.subarray(0, n),
        labelled: n > 0 && !labels.subarray(0, n).some(Number.isNaN),
        errors: errors.subarray(0, n),
        codes: codes.subarray(0, n * codeSize),
      };
      return { ...held, bytes: x.byteLength + labels.byteLength + errors.byteLength + codes.byteLength };
    },
  };
}

function resized(a: Float32Array, length: number, fill = 0, shared = false): Float32Array {
  const out = shared ? new Float32Array(new SharedArrayBuffer(4 * length)) : new Float32Array(length);
  if (fill !== 0) out.fill(fill);
  out.set(a.subarray(0, Math.min(a.length, length)));
  return out;
}

/** Rows the latent map draws: enough to see the classes, and the report stays small. */
const LATENT_POINTS = 3000;

/** The held rows' codes projected onto their own two principal directions, for the latent map. */
export function latentPoints(held: HeldTestRows, k: number): Array<{ x: number; y: number; label: string }> {
  const n = held.rows;
  if (n < 2 || k < 2) return [];
  const sum = new Float64Array(k);
  const outer = new Float64Array(k * k);
  const { codes } = held;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      const v = codes[r * k + i];
      sum[i] += v;
      for (let j = 0; j < k; j++) outer[i * k + j] += v * codes[r * k + j];
    }
  }
  const pca = Pca.fromSums(sum, outer, n, 2);
  return Array.from({ length: Math.min(n, LATENT_POINTS) }, (_, r) => {
    const [x, y] = pca.project(codes.subarray(r * k, (r + 1) * k));
    const label = Number.isNaN(held.labels[r]) ? '' : String(held.labels[r]);
    return { x, y, label };
  });
}
