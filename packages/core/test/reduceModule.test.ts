import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type WasmMemory, wasmApi } from '../src/backends/cpu/wasm/api.js';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { reduceModule } from '../src/backends/cpu/wasm/reduceModule.js';
import { realIn } from './helpers/reals.js';

/**
 * The generated row reductions themselves (reduceModule.ts), each test on a module built and instantiated afresh
 * (reduceWasm.ts keeps one per process): for rows packed one after another, each row's first multiple of 4 floats
 * reduced to one v128 at `out`. The reference follows the documented lane order exactly, so results must be equal
 * to the bit: sum in two float64 lanes (lane 0: the sums of the floats at 4q and 4q + 2, each a float64 chain in q
 * order, added; lane 1: those at 4q + 1 and 4q + 3), max / min in four float32 lanes from -Inf / +Inf with
 * NaN-propagating max / min (Math.max and Math.min, whose signed zeros agree with f32x4.max and f32x4.min).
 */
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
type RowsFn = (rows: number, rowBytes: number, simdBytes: number, x: number, out: number) => void;

function fresh(): { fns: Record<'sum' | 'max' | 'min', RowsFn>; memory: WasmMemory } {
  const shared = wasmFeatures().sharedMemory;
  const memory = new wasmApi!.Memory({ initial: 1, maximum: 16, shared });
  const ex = new wasmApi!.Instance(new wasmApi!.Module(reduceModule({ maximum: 16, shared })), {
    env: { memory },
  }).exports;
  return { fns: { sum: ex.sum as RowsFn, max: ex.max as RowsFn, min: ex.min as RowsFn }, memory };
}

const value = fc.oneof(
  { weight: 8, arbitrary: realIn(-1e6, 1e6, { f32: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  },
);

describe('reduceModule: the generated sum, max and min over packed rows', () => {
  it('give, per row, the documented lanes to the bit (fresh module per case)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(value, { minLength: 200, maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        (rows, n, pool, shift) => {
          const { fns, memory } = fresh();
          const F = new Float32Array(memory.buffer);
          const D = new Float64Array(memory.buffer);
          const simd = n & ~3;
          const x = 64 + shift; // in floats: unaligned rows are allowed
          const out = 1024; // in floats, 16-byte aligned
          const X = Float32Array.from({ length: rows * n }, (_, i) => pool[i % pool.length]!);
          F.set(X, x);
          for (const op of ['sum', 'max', 'min'] as const) {
            F.fill(7, out, out + 4 * (rows + 1)); // a sentinel: nothing past the rows is written
            fns[op](rows, 4 * n, 4 * simd, 4 * x, 4 * out);
            for (let r = 0; r < rows; r++) {
              const row = X.subarray(r * n, r * n + simd);
              if (op === 'sum') {
                const lane = (k: number) => {
                  let s = 0;
                  for (let j = k; j < simd; j += 4) s += row[j]!;
                  return s;
                };
                const o = (out + 4 * r) / 2;
                expect([D[o], D[o + 1]]).toEqual([lane(0) + lane(2), lane(1) + lane(3)]);
              } else {
                const pick = op === 'max' ? Math.max : Math.min;
                for (let l = 0; l < 4; l++) {
                  let acc = op === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
                  for (let j = l; j < simd; j += 4) acc = pick(acc, row[j]!);
                  expect(Object.is(F[out + 4 * r + l], Math.fround(acc))).toBe(true);
                }
              }
            }
            expect(Array.from(F.subarray(out + 4 * rows, out + 4 * rows + 4))).toEqual([7, 7, 7, 7]);
          }
        },
      ),
      { numRuns: 150, seed: SEED },
    );
  });

  it('keep each float32 lane as it is: +0 and -0 side by side, infinities, NaN', () => {
    const { fns, memory } = fresh();
    const F = new Float32Array(memory.buffer);
    const row = [0, -0, Number.POSITIVE_INFINITY, Number.NaN, 0, -0, Number.NEGATIVE_INFINITY, -0];
    F.set(row, 16);
    for (const op of ['max', 'min'] as const) {
      fns[op](1, 4 * row.length, 4 * row.length, 64, 1024);
      const pick = op === 'max' ? Math.max : Math.min;
      const want = [0, 1, 2, 3].map((l) => pick(row[l]!, row[l + 4]!));
      expect(Array.from(F.subarray(256, 260)).map((v, l) => Object.is(v, want[l]))).toEqual([
        true,
        true,
        true,
        true,
      ]);
    }
  });
});
