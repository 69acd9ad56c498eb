import type { Backend, BufferHandle } from './backends/backend.js';
import { type DType, bytesPerElement } from './dtype.js';

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

  static alloc(backend: Backend, dtype: DType, size: number): Storage {
    return new Storage(backend, backend.alloc(dtype, size), dtype, size);
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
