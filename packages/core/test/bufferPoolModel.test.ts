/**
 * BufferPool (backends/cpu/bufferPool.ts) on its own, with small bounds, against a model written from its
 * documented contract: a freed array is kept only if it is non-empty, at most `maxLength` elements, its whole
 * plain ArrayBuffer (not a view into a larger one, not shared memory), and there is room (at most `perLength`
 * per dtype and length, at most `maxBytes` in all); `take` hands back kept memory of exactly that dtype and
 * length, zeroed, as a new array, or null; the counters say what is kept; `clear` forgets everything.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/backends/cpu/bufferPool.js';
import type { DType, TypedArray } from '../src/index.js';

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const KIND = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;
const BYTES = { float32: 4, float64: 8, int32: 4 } as const;
const DTYPES = Object.keys(KIND) as DType[];

/** How a freed array was made: the pool must keep only the plain ones (as CpuBackend.alloc makes them). */
type Shape = 'plain' | 'offsetView' | 'shortView' | 'shared';

function makeArray(dtype: DType, length: number, shape: Shape): TypedArray {
  const C = KIND[dtype];
  const b = BYTES[dtype];
  if (shape === 'offsetView') return new C(new ArrayBuffer((length + 1) * b), b, length);
  if (shape === 'shortView') return new C(new ArrayBuffer((length + 1) * b), 0, length);
  if (shape === 'shared')
    // Shared memory must be refused (the cast: TypeScript types these constructors with ArrayBuffer).
    return new C(new SharedArrayBuffer(length * b) as unknown as ArrayBuffer);
  return new C(length);
}

type Step =
  | { op: 'give'; dtype: DType; length: number; shape: Shape }
  | { op: 'take'; dtype: DType; length: number }
  | { op: 'clear' };

// Lengths chosen so that keys of different dtypes collide in byte size (2 float32 = 1 float64) and in the
// arithmetic of a key (4 float64 vs 8 int32 elements ...), and around maxLength (8).
const length = fc.constantFrom(0, 1, 2, 3, 4, 6, 7, 8, 9, 16);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('give' as const),
      dtype: fc.constantFrom(...DTYPES),
      length,
      shape: fc.oneof(
        { weight: 6, arbitrary: fc.constant('plain' as const) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('offsetView' as const, 'shortView' as const, 'shared' as const),
        },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('take' as const), dtype: fc.constantFrom(...DTYPES), length }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

describe('BufferPool against a model of its contract', () => {
  it('keeps exactly what fits its bounds and hands it back zeroed, of the right dtype and length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 16, max: 160 }),
        fc.array(stepArb, { maxLength: 80 }),
        (perLength, maxBytes, steps) => {
          const maxLength = 8;
          const pool = new BufferPool(maxLength, perLength, maxBytes);
          // The model: kept memory by "dtype/length", and its total.
          const kept = new Map<string, ArrayBuffer[]>();
          let bytes = 0;
          for (const s of steps) {
            if (s.op === 'clear') {
              pool.clear();
              kept.clear();
              bytes = 0;
            } else if (s.op === 'give') {
              const a = makeArray(s.dtype, s.length, s.shape);
              a.fill(5); // the next owner must still see zeros
              const name = `${s.dtype}/${s.length}`;
              const list = kept.get(name) ?? [];
              const fits =
                s.shape === 'plain' &&
                s.length > 0 &&
                s.length <= maxLength &&
                bytes + a.byteLength <= maxBytes &&
                list.length < perLength;
              pool.give(a);
              if (fits) {
                list.push(a.buffer as ArrayBuffer);
                kept.set(name, list);
                bytes += a.byteLength;
              }
            } else {
              const got = pool.take(s.dtype, s.length);
              const list = kept.get(`${s.dtype}/${s.length}`) ?? [];
              if (list.length === 0) {
                expect(got).toBeNull();
              } else {
                expect(got).toBeInstanceOf(KIND[s.dtype]);
                expect(got!.length).toBe(s.length);
                expect(got!.byteOffset).toBe(0);
                expect(got!.every((v) => v === 0)).toBe(true);
                const i = list.indexOf(got!.buffer as ArrayBuffer);
                expect(i).toBeGreaterThanOrEqual(0); // memory that was kept for this dtype and length
                list.splice(i, 1);
                bytes -= got!.byteLength;
              }
            }
            expect(pool.bytes).toBe(bytes);
            expect(pool.buffers).toBe([...kept.values()].reduce((n, l) => n + l.length, 0));
          }
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });

  it('keeps an array of exactly maxLength elements and exactly filling maxBytes, not one more', () => {
    const pool = new BufferPool(4, 2, 32);
    pool.give(new Float32Array(4)); // 16 bytes, length = maxLength
    pool.give(new Float32Array(4)); // 32 bytes: exactly the bound
    expect([pool.buffers, pool.bytes]).toEqual([2, 32]);
    pool.give(new Int32Array(1)); // 36 bytes would pass the bound
    pool.give(new Float32Array(5)); // longer than maxLength
    expect([pool.buffers, pool.bytes]).toEqual([2, 32]);
    expect(pool.take('float32', 4)).not.toBeNull();
    expect(pool.take('float32', 4)).not.toBeNull();
    expect(pool.take('float32', 4)).toBeNull();
  });
});
