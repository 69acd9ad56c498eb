import { type DType, type TypedArray, bytesPerElement, dtypeOfArray } from '../../dtype.js';

/**
 * The default bounds: buffers up to 2M elements (8 MiB of float32: a [1600, 1024] input projection of char-lstm's
 * batch, whose fresh allocation and zeroing each forward took 7-15% of its CPU time), 32 MiB in all.
 */
export const POOL_MAX_LENGTH = 1 << 21;
export const POOL_MAX_BYTES = 32 << 20;

/**
 * Freed small CPU buffers, kept for reuse. At batch 1 an op's arithmetic costs less than allocating its output:
 * a new typed array takes about 0.6 us (an off-heap backing store, then garbage-collector work), a reused one
 * zeroed with fill(0) under 0.1 us; at a batch of 32 long sequences, a fresh multi-megabyte array is zeroed by the
 * host and page-faulted in at each forward. Buffers come back zeroed, as new arrays are; only buffers up to a
 * bounded length are kept, a few of each length and dtype, and a bounded total (memory() reports it). What is
 * kept is the memory (the ArrayBuffer), handed out again as a new typed array: caches keyed on a buffer's identity
 * (the wasm matmul's packed weights, which counts sightings) never mistake a new tensor for a freed one.
 */
export class BufferPool {
  /** Free memory by dtype and length. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  buffers = 0;
  bytes = 0;

  constructor(
    /** Longest buffer kept, in elements. */
    private readonly maxLength = POOL_MAX_LENGTH,
    /** Buffers kept per dtype and length. */
    private readonly perLength = 16,
    /** Bytes kept in all. */
    private readonly maxBytes = POOL_MAX_BYTES,
  ) {}

  /** A zeroed buffer of `length` elements of `dtype` from the pool, or null when it has none. */
  take(dtype: DType, length: number): TypedArray | null {
    const memory = this.free.get(key(dtype, length))?.pop();
    if (!memory) return null;
    this.buffers--;
    this.bytes -= memory.byteLength;
    return new ARRAYS[dtype](memory).fill(0);
  }

  /** Keep `a` (no longer used by anyone) for a later take, if it is small and there is room. */
  give(a: TypedArray): void {
    const bytes = a.byteLength;
    if (a.length === 0 || a.length > this.maxLength || this.bytes + bytes > this.maxBytes) return;
    // Only an array that is its whole ArrayBuffer (as CpuBackend.alloc makes them).
    if (a.byteOffset !== 0 || a.buffer.byteLength !== bytes || !(a.buffer instanceof ArrayBuffer)) return;
    const k = key(dtypeOfArray(a), a.length);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    if (list.length >= this.perLength) return;
    list.push(a.buffer);
    this.buffers++;
    this.bytes += bytes;
  }

  /** Drop every kept buffer (to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.buffers = 0;
    this.bytes = 0;
  }
}

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

function key(dtype: DType, length: number): number {
  return length * 4 + (dtype === 'float32' ? 0 : dtype === 'float64' ? 1 : 2);
}
