import type { Backend, BufferHandle } from './backends/backend.js';
import { type DType, type TypedArray, bytesPerElement, typedArrayFor } from './dtype.js';
import { WebrnnError, fmtShape } from './errors.js';
import { MAX_TYPED_ARRAY_LENGTH, hostMemoryBytes } from './hostMemory.js';

/**
 * A refcounted buffer on one backend. Tensors are views over a storage; the buffer goes back to its backend when
 * the last view (or graph node that saved it) lets go. `version` counts in-place writes so that autograd can
 * refuse to use a saved tensor that was modified after it was saved.
 */
export class Storage {
  private refs = 1;
  version = 0;

  constructor(
    readonly backend: Backend,
    readonly buffer: BufferHandle,
    readonly dtype: DType,
    readonly size: number,
  ) {
    stats.storages++;
    stats.bytes += size * bytesPerElement(dtype);
  }

  /** `size` elements of `dtype` on `backend`; `op` names the op that allocates in errors. */
  static alloc(backend: Backend, dtype: DType, size: number, op = 'alloc'): Storage {
    return new Storage(backend, backend.alloc(dtype, size, op), dtype, size);
  }

  get alive(): boolean {
    return this.refs > 0;
  }

  /** More than one holder: writing in place would be seen by others. */
  get shared(): boolean {
    return this.refs > 1;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) {
      stats.storages--;
      stats.bytes -= this.size * bytesPerElement(this.dtype);
      this.backend.free(this.buffer);
    }
  }
}

/** Process-wide counters read by memory(). */
export const stats = { tensors: 0, storages: 0, bytes: 0 };

/**
 * The element count of a tensor of `shape` for op `op`, refused when it is not exact in a double (past 2^53 the
 * count, and every offset into the tensor, would be rounded).
 */
export function elementCount(op: string, dtype: DType, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) {
    throw new WebrnnError(
      op,
      `a ${dtype} tensor of shape ${fmtShape(shape)} has ${n} elements, more than can be addressed (2^53 - 1)`,
    );
  }
  return n;
}

/** Below this many bytes an allocation is not worth asking the host about (the query reads /proc on Linux). */
const ASK_HOST_FROM = 2 ** 26;

/**
 * Refuse a host array of `size` elements of `dtype` that could not be allocated: longer than a typed array can be,
 * or larger than the memory this process can get (`memoryBytes`, by default what the host reports).
 */
export function checkHostAllocation(op: string, dtype: DType, size: number, memoryBytes?: number): void {
  const bytes = size * bytesPerElement(dtype);
  const what = () => `${bytes} bytes (${size} ${dtype} elements)`;
  if (size > MAX_TYPED_ARRAY_LENGTH) {
    throw new WebrnnError(
      op,
      `cannot allocate ${what()} on the CPU: a typed array holds at most ${MAX_TYPED_ARRAY_LENGTH} elements`,
    );
  }
  const memory = memoryBytes ?? (bytes >= ASK_HOST_FROM ? hostMemoryBytes() : Number.POSITIVE_INFINITY);
  if (bytes > memory) {
    throw new WebrnnError(
      op,
      `cannot allocate ${what()} on the CPU: this process can get about ${memory} bytes of memory`,
    );
  }
}

/** A host typed array of `size` elements of `dtype` for op `op`, or a WebrnnError naming the op and the bytes. */
export function hostArray(op: string, dtype: DType, size: number, memoryBytes?: number): TypedArray {
  checkHostAllocation(op, dtype, size, memoryBytes);
  try {
    return typedArrayFor(dtype, size);
  } catch (e) {
    // What the checks cannot see (an address-space limit, a fragmented heap) surfaces here.
    if (!(e instanceof RangeError)) throw e;
    throw new WebrnnError(
      op,
      `cannot allocate ${size * bytesPerElement(dtype)} bytes on the CPU: ${e.message}`,
    );
  }
}
