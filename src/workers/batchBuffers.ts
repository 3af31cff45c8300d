/**
 * Shared memory for batches on their way to the workers, reused: a batch is packed into a buffer from here (or
 * copied into one), and the buffer comes back when every replica has answered. As many buffers as batches in
 * flight; one that never comes back (a batch skipped or dropped) is simply collected.
 */
export class BatchBuffers {
  private free: SharedArrayBuffer[] = [];
  private readonly ours = new WeakSet<ArrayBufferLike>();

  allocate(length: number): Float32Array {
    let buffer = this.free.pop();
    if (!buffer || buffer.byteLength < 4 * length) {
      buffer = new SharedArrayBuffer(4 * length);
      this.ours.add(buffer);
    }
    return new Float32Array(buffer, 0, length);
  }

  /** The values in one of these buffers: as they are when packed here, else a copy. */
  take(values: Float32Array): Float32Array {
    if (this.ours.has(values.buffer) && values.byteOffset === 0) return values;
    const view = this.allocate(values.length);
    view.set(values);
    return view;
  }

  give(view: Float32Array): void {
    this.free.push(view.buffer as SharedArrayBuffer);
  }
}
