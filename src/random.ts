/**
 * Seeded randomness. Every random choice in aeflow (shuffle, noise, initialisation, sampling) draws from a
 * generator made here from the pipeline's seed and a label, so runs repeat exactly and streams are independent.
 */

/** 32-bit FNV-1a of a string, to turn labels into seed material. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes a seed with labels (e.g. `deriveSeed(0, 'shuffle', 3)`) into an independent 32-bit seed. */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const label of labels) {
    h = Math.imul(h ^ hashString(String(label)), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A small, fast generator (sfc32) with uniform and normal draws. Its state can be saved and restored. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal (Box–Muller, the second draw kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  state(): number[] {
    return [this.a, this.b, this.c, this.d, this.spare ?? Number.NaN];
  }

  static fromState(state: number[]): Random {
    const r = new Random(0);
    [r.a, r.b, r.c, r.d] = state as [number, number, number, number];
    r.spare = Number.isNaN(state[4]) ? null : state[4];
    return r;
  }
}

/** 0 … n−1 in a seeded random order (Fisher–Yates). */
export function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = new Random(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
