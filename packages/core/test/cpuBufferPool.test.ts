/**
 * The CPU backend reuses freed small buffers (backends/cpu/bufferPool.ts). What a caller sees must not change: every
 * allocation comes back zeroed, of its dtype and length, never shared with a live one, whatever was written to
 * it before; the pool stays within its bounds and memory() reports it; large buffers are not kept.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CpuBackend, type DType, type TypedArray, memory, tensor, tidy } from '@webrnn/core';
import {
  POOL_LARGE_BYTES,
  POOL_MAX_BYTES,
  POOL_MAX_LENGTH,
  POOL_SMALL_LENGTH,
} from '../src/backends/cpu/bufferPool.js';

const DTYPES: DType[] = ['float32', 'float64', 'int32'];
const KIND = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

describe('CPU buffer reuse', () => {
  it('allocations are zeroed, typed, sized and never shared with a live buffer, across random alloc/free', () => {
    const step = fc.oneof(
      fc.record({
        alloc: fc.constantFrom(...DTYPES),
        size: fc.oneof(
          fc.integer({ min: 0, max: 40 }),
          fc.constantFrom(POOL_SMALL_LENGTH, POOL_SMALL_LENGTH + 1, POOL_MAX_LENGTH, POOL_MAX_LENGTH + 1),
        ),
      }),
      fc.record({ free: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const be = new CpuBackend();
        const live: TypedArray[] = [];
        for (const s of steps) {
          if ('alloc' in s) {
            const a = be.alloc(s.alloc, s.size);
            expect(a).toBeInstanceOf(KIND[s.alloc]);
            expect(a.length).toBe(s.size);
            expect(a.every((v) => v === 0)).toBe(true);
            expect(live.some((l) => l.buffer === a.buffer)).toBe(false);
            a.fill(7); // dirty it: a reuse must zero it again
            live.push(a);
          } else if (live.length > 0) {
            be.free(live.splice(s.free % live.length, 1)[0]!);
          }
          const m = be.memory();
          expect(m.liveBuffers).toBe(live.length);
          expect(m.liveBytes).toBe(live.reduce((n, a) => n + a.byteLength, 0));
          expect(m.pooledBytes).toBeLessThanOrEqual(POOL_MAX_BYTES);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the memory of a freed small buffer for the next allocation of its dtype and length, not a large one', () => {
    const be = new CpuBackend();
    const small = be.alloc('float32', 512);
    be.free(small);
    expect(be.memory()).toMatchObject({ pooledBuffers: 1, pooledBytes: 2048 });
    expect(be.alloc('float64', 512)).not.toBe(small);
    expect(be.alloc('float32', 511)).not.toBe(small);
    const reused = be.alloc('float32', 512);
    // The same memory as a new array: caches keyed on the array (the wasm matmul's) see a new buffer.
    expect(reused.buffer).toBe(small.buffer);
    expect(reused).not.toBe(small);
    expect(be.memory()).toMatchObject({ pooledBuffers: 0, pooledBytes: 0 });
    const large = be.alloc('float32', POOL_MAX_LENGTH + 1);
    be.free(large);
    expect(be.memory().pooledBuffers).toBe(0);
  });

  it('keeps small buffers when large ones have filled their own budget', () => {
    const be = new CpuBackend();
    // More large buffers than their budget holds, all freed: the large budget is full.
    const n = Math.ceil(POOL_LARGE_BYTES / (4 * POOL_MAX_LENGTH)) + 1;
    const large = Array.from({ length: n }, () => be.alloc('float32', POOL_MAX_LENGTH));
    for (const a of large) be.free(a);
    const full = be.memory();
    expect(full.pooledBytes).toBe(POOL_LARGE_BYTES);
    const small = be.alloc('float32', 100);
    be.free(small);
    expect(be.memory()).toMatchObject({
      pooledBuffers: full.pooledBuffers + 1,
      pooledBytes: POOL_LARGE_BYTES + 400,
    });
    expect(be.alloc('float32', 100).buffer).toBe(small.buffer);
    expect(be.alloc('float32', POOL_MAX_LENGTH).buffer).toBe(large[n - 2]!.buffer);
  });

  it('still refuses what its memory limit refuses, pooled or not', () => {
    const be = new CpuBackend(1000);
    expect(() => be.alloc('float32', 300, 'zeros')).toThrow(/zeros.*1200 bytes/);
  });

  it('ops reusing buffers give the same results as fresh ones (a tidy loop of small ops)', () => {
    const x = tensor([1, 2, 3, 4], { shape: [2, 2] });
    const first = tidy(() => x.mul(2).add(1).dataSync());
    for (let i = 0; i < 5; i++) {
      expect(Array.from(tidy(() => x.mul(2).add(1).dataSync()))).toEqual(Array.from(first));
    }
    expect(memory().cpu.pooledBuffers).toBeGreaterThan(0);
    x.dispose();
  });
});
