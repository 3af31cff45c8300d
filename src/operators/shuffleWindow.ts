import { Observable, type OperatorFunction } from 'rxjs';
import { Random } from '../random.js';
import type { Row } from '../rows.js';

/**
 * Shuffles a stream through a window of `size` items, as tf.data's `shuffle(bufferSize)` does: the window
 * fills first; then each arriving item takes the place of a uniformly chosen item, which is emitted; at the
 * end the remaining window is emitted in random order. Memory is bounded by the window. A window at least as
 * large as the stream yields a uniformly random permutation. The same seed gives the same order.
 *
 * @example
 * rows$.pipe(shuffleWindow(10_000, deriveSeed(seed, 'shuffle', epoch)))
 *
 * @param size number of items held at once (>= 1; 1 keeps the order)
 * @param seed seed of the generator choosing which item leaves the window
 */
export function shuffleWindow<T>(size: number, seed: number): OperatorFunction<T, T> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`shuffle window must be an integer >= 1, got ${size}`);
  return (source) =>
    new Observable<T>((subscriber) => {
      const random = new Random(seed);
      let window: T[] = [];
      const subscription = source.subscribe({
        next(item) {
          if (window.length < size) {
            window.push(item);
            return;
          }
          const j = random.int(size);
          const out = window[j];
          window[j] = item;
          subscriber.next(out);
        },
        error: (e) => subscriber.error(e),
        complete() {
          // Fisher–Yates over what is left, emitting as we go.
          for (let n = window.length; n > 0 && !subscriber.closed; n--) {
            const j = random.int(n);
            const out = window[j];
            window[j] = window[n - 1];
            subscriber.next(out);
          }
          window = [];
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        window = [];
      };
    });
}

/** Rows per block of the row window's memory (allocated as the window fills, so small streams stay small). */
const BLOCK_ROWS = 256;

/**
 * `shuffleWindow` for rows, in the same order for the same seed, with the window's values in a few large
 * blocks of memory instead of one array per row: each arriving row is copied into the slot of the row it
 * replaces. Rows in the window then cost the garbage collector nothing (one array per row, kept for ~10,000
 * rows, was half the main thread's collection work in a cached epoch), and the row arrays a reader hands over
 * can be views into its read buffers.
 *
 * A row this operator emits is a view into its window and is only valid while downstream handles it: the
 * next arriving row overwrites it. Stages after the shuffle that keep a row past their `next` (as batching
 * does) copy its values. Rows must all have the same number of values (and all a target, or none).
 *
 * @example
 * rows$.pipe(shuffleRows(10_000, deriveSeed(seed, 'shuffle', epoch)), batchRows(256))
 */
export function shuffleRows(size: number, seed: number, memory?: WindowMemory): OperatorFunction<Row, Row> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`shuffle window must be an integer >= 1, got ${size}`);
  return (source) =>
    new Observable<Row>((subscriber) => {
      const random = new Random(seed);
      const window = new RowWindow(size, memory ?? new WindowMemory());
      const subscription = source.subscribe({
        next(row) {
          try {
            if (window.length < size) {
              window.put(window.length, row);
              return;
            }
            const j = random.int(size);
            subscriber.next(window.row(j));
            window.put(j, row);
          } catch (e) {
            subscriber.error(e);
          }
        },
        error: (e) => subscriber.error(e),
        complete() {
          // Fisher–Yates over what is left, emitting as we go (slots move, values stay where they are).
          for (let n = window.length; n > 0 && !subscriber.closed; n--) {
            const j = random.int(n);
            subscriber.next(window.row(j));
            window.move(n - 1, j);
          }
          window.clear();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        window.clear();
      };
    });
}

/**
 * The blocks a window's values live in. A window makes its own unless given one: passes one after another (an
 * evaluation's) can then share one, instead of each allocating and dropping the window's ~30 MB, which
 * fragmented the process's memory.
 */
export class WindowMemory {
  private readonly blocks = new Map<string, Float32Array[]>();

  /** The `n`-th block of `length` floats (made on first use), for values or targets. */
  block(kind: 'x' | 'target', n: number, length: number): Float32Array {
    const key = `${kind}:${length}`;
    let list = this.blocks.get(key);
    if (!list) {
      list = [];
      this.blocks.set(key, list);
    }
    while (list.length <= n) list.push(new Float32Array(length));
    return list[n];
  }
}

/** `size` rows' values and fields, by window position; positions map to slots of block memory. */
class RowWindow {
  length = 0;
  private width = -1;
  private hasTarget = false;
  /** Window position -> slot. */
  private readonly slots: Int32Array;
  private readonly fields: Array<Omit<Row, 'x' | 'target'>>;
  private readonly xs: Float32Array[] = [];
  private readonly targets: Float32Array[] = [];

  private blocks = 0;

  constructor(
    readonly size: number,
    private readonly memory: WindowMemory,
  ) {
    this.slots = new Int32Array(size);
    this.fields = new Array(size);
  }

  /** Copies `row` into window position `at` (a new position when `at === length`). */
  put(at: number, row: Row): void {
    if (this.width < 0) {
      this.width = row.x.length;
      this.hasTarget = row.target !== undefined;
    }
    if (row.x.length !== this.width || (row.target !== undefined) !== this.hasTarget || (row.target && row.target.length !== this.width)) {
      throw new Error(
        `shuffle: row ${row.index} (line ${row.line}) has ${row.x.length} values${row.target ? ' and a target' : ''}, the rows before it ${this.width}${this.hasTarget ? ' and a target' : ''}`,
      );
    }
    if (at === this.length) {
      this.slots[at] = at;
      this.length++;
    }
    const slot = this.slots[at];
    if (slot >= this.xs.length) this.grow(slot);
    this.xs[slot].set(row.x);
    if (row.target) this.targets[slot].set(row.target);
    this.fields[slot] = { origin: row.origin, line: row.line, index: row.index, label: row.label };
  }

  /** The row at window position `at`, as views into the window. */
  row(at: number): Row {
    const slot = this.slots[at];
    const { origin, line, index, label } = this.fields[slot];
    return this.hasTarget ? { origin, line, index, label, x: this.xs[slot], target: this.targets[slot] } : { origin, line, index, label, x: this.xs[slot] };
  }

  /** Puts the row at position `from` at position `to` (the last position is then dropped). */
  move(from: number, to: number): void {
    this.slots[to] = this.slots[from];
    this.length = from;
  }

  clear(): void {
    this.xs.length = 0;
    this.targets.length = 0;
    this.fields.fill(undefined as never);
    this.length = 0;
  }

  private grow(slot: number): void {
    while (slot >= this.xs.length) {
      const rows = Math.min(BLOCK_ROWS, this.size - this.xs.length);
      const n = this.blocks++;
      const block = { x: this.memory.block('x', n, rows * this.width), target: this.hasTarget ? this.memory.block('target', n, rows * this.width) : null };
      for (let r = 0; r < rows; r++) {
        this.xs.push(block.x.subarray(r * this.width, (r + 1) * this.width));
        if (block.target) this.targets.push(block.target.subarray(r * this.width, (r + 1) * this.width));
      }
    }
  }
}
