import { Random } from '../random.js';

/**
 * Which items of a stream of unknown length to keep for a uniform sample of at most `capacity` (reservoir
 * sampling, Vitter's algorithm R): the first `capacity` fill it; after that item i (0-based) replaces a
 * uniformly chosen slot with probability capacity / (i + 1). Every item ends in the sample with the same
 * probability, and the same seed picks the same items. The caller stores the items in its own arrays, by slot.
 *
 * @example
 * const reservoir = new Reservoir(10_000, seed);
 * for (const row of rows) { const slot = reservoir.offer(); if (slot >= 0) store(slot, row); }
 */
export class Reservoir {
  /** Items offered so far. */
  seen = 0;
  private readonly random: Random;
  /** The item each slot holds, so results that arrive later can tell whether their item is still there. */
  private readonly owners: Float64Array;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`reservoir capacity must be an integer >= 1, got ${capacity}`);
    this.random = new Random(seed);
    this.owners = new Float64Array(capacity).fill(-1);
  }

  /** Offers the next item: the slot it takes, or -1 when it is not kept. */
  offer(): number {
    const i = this.seen++;
    const slot = i < this.capacity ? i : this.random.int(i + 1);
    if (slot >= this.capacity) return -1;
    this.owners[slot] = i;
    return slot;
  }

  /** Whether `slot` still holds item `item` (0-based, in offer order). */
  holds(slot: number, item: number): boolean {
    return this.owners[slot] === item;
  }

  /** Items held: all of them while fewer than `capacity` were offered. */
  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  /** Whether every item offered is held. */
  get complete(): boolean {
    return this.seen <= this.capacity;
  }
}
