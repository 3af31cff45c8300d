/**
 * The parts one after another, in one new array of `type` (given rather than taken from the parts, so that an
 * empty list still has one).
 *
 * @example
 * concat([Float32Array.of(1, 2), Float32Array.of(3)], Float32Array) // Float32Array [1, 2, 3]
 */
export function concat<T extends Float32Array | Int32Array | Uint8Array>(parts: readonly ArrayLike<number>[], type: new (length: number) => T): T {
  const out = new type(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
