/// <reference types="@webgpu/types" />
import { WebrnnError } from '../../errors.js';
import type { ErrorLog } from './queue.js';

const STORAGE = 0x0080 | 0x0004 | 0x0008; // STORAGE | COPY_SRC | COPY_DST

/**
 * Size class of a request: 256 bytes, then four classes per power of two (at most 25% slack), so that buffers of
 * similar sizes share a free list.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** (Math.floor(Math.log2(bytes - 1)) - 2);
  return Math.ceil(bytes / step) * step;
}

/**
 * GPU buffers pooled by size class. A freed buffer may still be read or written by commands that are recorded but
 * not yet submitted, so it goes to `pending` and returns to the free lists only after the next submit
 * (`recycle`). Allocation failures (out of memory) are detected with an error scope: they surface through
 * the error log at the next read, after the pool has dropped its free buffers so that smaller work can go on.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  readonly stats = { liveBuffers: 0, liveBytes: 0, pooledBuffers: 0, pooledBytes: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly errors: ErrorLog,
  ) {}

  /** A storage buffer of at least `bytes` bytes; `op` names the caller in errors. */
  acquire(bytes: number, op: string): GPUBuffer {
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new WebrnnError(
        op,
        `cannot allocate ${bytes} bytes on WebGPU: the device binds at most ${limit} bytes per buffer (maxStorageBufferBindingSize)`,
      );
    }
    const size = Math.min(sizeClass(bytes), Math.max(256, Math.ceil(limit / 4) * 4));
    const reused = this.free.get(size)?.pop();
    let buffer: GPUBuffer;
    if (reused) {
      buffer = reused;
      this.stats.pooledBuffers--;
      this.stats.pooledBytes -= size;
    } else {
      this.device.pushErrorScope('out-of-memory');
      buffer = this.device.createBuffer({ size, usage: STORAGE });
      this.errors.popScope(this.device, (m) => {
        this.trim();
        return `${op}: out of GPU memory allocating ${size} bytes (${m})`;
      });
    }
    this.stats.liveBuffers++;
    this.stats.liveBytes += size;
    return buffer;
  }

  /** Give a buffer back; it is reused only after the work recorded so far has been submitted. */
  release(buffer: GPUBuffer): void {
    this.stats.liveBuffers--;
    this.stats.liveBytes -= buffer.size;
    this.pending.push(buffer);
  }

  /** After a submit: the buffers released before it may be handed out again. */
  recycle(): void {
    for (const b of this.pending) {
      const list = this.free.get(b.size);
      if (list) list.push(b);
      else this.free.set(b.size, [b]);
      this.stats.pooledBuffers++;
      this.stats.pooledBytes += b.size;
    }
    this.pending = [];
  }

  /** Destroy the free buffers (after an allocation failure, or to give memory back). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.stats.pooledBuffers = 0;
    this.stats.pooledBytes = 0;
  }
}
