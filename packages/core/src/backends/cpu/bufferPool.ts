import { type DType, type TypedArray, bytesPerElement, dtypeOfArray } from '../../dtype.js';

/**
 * The default bounds, in two budgets so that large buffers never crowd out small ones (after a batch-32 forward
 * had filled a single budget with megabyte buffers, batch-1 generation ran 1.7x slower, its small allocations
 * no longer pooled): buffers up to 64K elements, 16 MiB of them; and buffers up to 2M elements (8 MiB of
 * float32: a [1600, 1024] input projection of char-lstm's batch, whose fresh allocation and zeroing at each
 * forward took 7-15% of its CPU time), 32 MiB of them.
 */
export const POOL_SMALL_LENGTH = 1 << 16;
export const POOL_SMALL_BYTES = 16 << 20;
export const POOL_MAX_LENGTH = 1 << 21;
export const POOL_LARGE_BYTES = 32 << 20;
/** Both budgets: the most a pool keeps. */
export const POOL_MAX_BYTES = POOL_SMALL_BYTES + POOL_LARGE_BYTES;

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
  /** Bytes kept of buffers longer than smallLength. */
  private largeBytes = 0;

  constructor(
    /** Longest buffer kept, in elements. */
    private readonly maxLength = POOL_MAX_LENGTH,
    /** Buffers kept per dtype and length. */
    private readonly perLength = 16,
    /** Bytes kept of buffers up to smallLength elements. */
    private readonly smallBytes = POOL_SMALL_BYTES,
    /** Longest buffer of the small budget. */
    private readonly smallLength = POOL_SMALL_LENGTH,
    /** Bytes kept of longer buffers. */
    private readonly largeBudget = POOL_LARGE_BYTES,
  ) {}

  /** A zeroed buffer of `length` elements of `dtype` from the pool, or null when it has none. */
  take(dtype: DType, length: number): TypedArray | null {
    const memory = this.free.get(key(dtype, length))?.pop();
    if (!memory) return null;
    this.buffers--;
    this.bytes -= memory.byteLength;
    if (length > this.smallLength) this.largeBytes -= memory.byteLength;
    return new ARRAYS[dtype](memory).fill(0);
  }

  /** Keep `a` (no longer used by anyone) for a later take, if it is small and there is room. */
  give(a: TypedArray): void {
    const bytes = a.byteLength;
    if (a.length === 0 || a.length > this.maxLength) return;
    const large = a.length > this.smallLength;
    const used = large ? this.largeBytes : this.bytes - this.largeBytes;
    if (used + bytes > (large ? this.largeBudget : this.smallBytes)) return;
    // Only an array that is its whole ArrayBuffer (as CpuBackend.alloc makes them).
    if (a.byteOffset !== 0 || a.buffer.byteLength !== bytes || !(a.buffer instanceof ArrayBuffer)) return;
    const k = key(dtypeOfArray(a), a.length);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    if (list.length >= this.perLength) return;
    list.push(a.buffer);
    this.buffers++;
    this.bytes += bytes;
    if (large) this.largeBytes += bytes;
  }

  /** Drop every kept buffer (to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.buffers = 0;
    this.bytes = 0;
    this.largeBytes = 0;
  }
}

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

function key(dtype: DType, length: number): number {
  return length * 4 + (dtype === 'float32' ? 0 : dtype === 'float64' ? 1 : 2);
}
