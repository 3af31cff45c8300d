import { Observable, type OperatorFunction } from 'rxjs';
import { Random } from '../random.js';

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
