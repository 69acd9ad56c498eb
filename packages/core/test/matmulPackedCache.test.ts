import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  forgetPackedB,
  packedCacheStats,
  setPackedCacheLimit,
} from '../src/backends/cpu/wasm/packedCache.js';
import { setCpuWasm } from '../src/backends/cpu/wasm/runtime.js';
import { type Tensor, binaryInPlace, fillInPlace, fromData, matmul, narrow, noGrad } from '../src/index.js';
import { copyInPlace } from '../src/ops/inPlace.js';

/**
 * The cache of packed B operands in wasm memory (packedCache.ts): random programs interleave products with
 * weights (plain and transposed, batch 1 to 12, so that thin products take the cached wasm path too) and
 * in-place writes to those weights (add_, mul_, fill_, copy_, a write through a narrowed view of the same
 * storage), disposals and fresh weights; every product must match the JavaScript reference (wasm off, float64
 * sums) computed from the weights' values at that moment. A stale packed copy would show as a mismatch.
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const DEFAULT_LIMIT = 64 << 20;

afterAll(() => {
  setPackedCacheLimit(DEFAULT_LIMIT);
  setCpuWasm('auto');
});
beforeEach(() => setPackedCacheLimit(DEFAULT_LIMIT));

let seedState = 1;
function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    seedState = (Math.imul(seedState, 1664525) + 1013904223) >>> 0;
    return (seedState / 2 ** 32) * 2 - 1;
  });
}

/** The product on the wasm path (cache in play) and on the JavaScript reference, compared. */
function checkProduct(x: Tensor, w: Tensor, transB: boolean): void {
  setCpuWasm('on');
  const got = matmul(x, w, { transB });
  setCpuWasm('off');
  const want = matmul(x, w, { transB });
  const g = got.dataSync();
  const r = want.dataSync();
  const K = x.shape[1]!;
  for (let i = 0; i < r.length; i++) {
    if (Math.abs(g[i]! - r[i]!) > 2e-6 * K) {
      expect.fail(
        `element ${i}: wasm ${g[i]} vs reference ${r[i]} (x ${x.shape}, w ${w.shape}, transB ${transB})`,
      );
    }
  }
  got.dispose();
  want.dispose();
}

type Step =
  | { kind: 'matmul'; rows: number; trans: boolean }
  | { kind: 'add' | 'mul' | 'fill' | 'copy' | 'narrowFill' | 'renew' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('matmul' as const),
      rows: fc.integer({ min: 1, max: 12 }),
      trans: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'add' as const,
        'mul' as const,
        'fill' as const,
        'copy' as const,
        'narrowFill' as const,
        'renew' as const,
      ),
    }),
  },
);

describe('packed-weight cache of the wasm matmul', () => {
  it('never serves a stale packed weight: products interleaved with in-place writes match the reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 70 }),
        fc.integer({ min: 8, max: 70 }),
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 1e9 }),
        (K, N, steps, seed) => {
          seedState = seed;
          setPackedCacheLimit(DEFAULT_LIMIT); // a run that failed may have left entries (shrinking reruns)
          // w is [K, N] (x w) and its transpose view serves x w^T with a [N, K] weight of the same storage.
          let w = fromData(rand(K * N), [K, N]);
          let wt = fromData(rand(N * K), [N, K]);
          noGrad(() => {
            for (const s of steps) {
              if (s.kind === 'matmul') {
                const x = fromData(rand(s.rows * K), [s.rows, K]);
                if (s.trans) checkProduct(x, wt, true);
                else checkProduct(x, w, false);
                x.dispose();
                continue;
              }
              if (s.kind === 'renew') {
                w.dispose();
                wt.dispose();
                w = fromData(rand(K * N), [K, N]);
                wt = fromData(rand(N * K), [N, K]);
                continue;
              }
              for (const t of [w, wt]) {
                const other = fromData(rand(t.size), t.shape);
                if (s.kind === 'add') binaryInPlace('add', t, other);
                else if (s.kind === 'mul') binaryInPlace('mul', t, other);
                else if (s.kind === 'fill') fillInPlace(t, other.dataSync()[0]!);
                else if (s.kind === 'copy') copyInPlace(t, other);
                else {
                  const part = narrow(t, 0, 1, 2); // rows 1..2: another view of the same storage
                  fillInPlace(part, 3.5);
                  part.dispose();
                }
                other.dispose();
              }
            }
          });
          w.dispose();
          wt.dispose();
          expect(packedCacheStats().entries).toBe(0); // disposal forgot them all
        },
      ),
      { numRuns: 60, seed: SEED },
    );
  });

  it('caches a weight read twice and forgets it when disposed', () => {
    setCpuWasm('on');
    const w = fromData(rand(64 * 96), [64, 96]);
    const x = fromData(rand(9 * 64), [9, 64]);
    const products = [0, 1, 2].map(() => matmul(x, w));
    expect(packedCacheStats()).toMatchObject({ entries: 1, bytes: 64 * 96 * 4 });
    // Read once (an activation or a gradient): never cached.
    const once = fromData(rand(64 * 96), [64, 96]);
    matmul(x, once).dispose();
    expect(packedCacheStats().entries).toBe(1);
    w.dispose();
    expect(packedCacheStats()).toMatchObject({ entries: 0, bytes: 0 });
    for (const t of [x, once, ...products]) t.dispose();
  });

  it('runs thin products (batch 1 to 7) in wasm once their weight is cached, plain and transposed', () => {
    for (const [rows, trans] of [
      [1, false],
      [1, true],
      [3, true],
      [7, false],
    ] as const) {
      const w = fromData(rand(200 * 300), trans ? [300, 200] : [200, 300]);
      const x = fromData(rand(rows * 200), [rows, 200]);
      checkProduct(x, w, trans); // first sight: JavaScript, not cached
      expect(packedCacheStats().entries).toBe(0);
      for (let i = 0; i < 3; i++) checkProduct(x, w, trans);
      expect(packedCacheStats()).toMatchObject({ entries: 1, bytes: 200 * 304 * 4 }); // N padded to 8 columns
      const factor = fromData(Float32Array.of(-2), [1]);
      noGrad(() => binaryInPlace('mul', w, factor));
      factor.dispose();
      checkProduct(x, w, trans); // repacked at the new version
      w.dispose();
      x.dispose();
    }
  });

  it('caches several views of one storage read in turn (SeqLSTM: input and recurrent parts of one weight)', () => {
    setCpuWasm('on');
    const D = 40;
    const R = 56;
    const weight = fromData(rand((D + R) * 128), [D + R, 128]);
    const wx = narrow(weight, 0, 0, D);
    const wh = narrow(weight, 0, D, R);
    const x = fromData(rand(D), [1, D]);
    const h = fromData(rand(R), [1, R]);
    // A recurrence at batch 1: the two views alternate, step after step.
    for (let step = 0; step < 3; step++) {
      checkProduct(x, wx, false);
      checkProduct(h, wh, false);
    }
    expect(packedCacheStats()).toMatchObject({ entries: 2, bytes: (D + R) * 128 * 4 });
    for (const t of [x, h, wx, wh]) t.dispose();
    weight.dispose();
    expect(packedCacheStats().entries).toBe(0);
  });

  it('stays within its bound, evicting the least recently used weights, and still computes right', () => {
    setPackedCacheLimit(3 * 32 * 32 * 4); // room for three 32 x 32 weights
    setCpuWasm('on');
    const ws = Array.from({ length: 6 }, () => fromData(rand(32 * 32), [32, 32]));
    const x = fromData(rand(9 * 32), [9, 32]);
    for (let round = 0; round < 3; round++) {
      for (const w of ws) {
        checkProduct(x, w, false);
        setCpuWasm('on');
        checkProduct(x, w, false);
        expect(packedCacheStats().bytes).toBeLessThanOrEqual(3 * 32 * 32 * 4);
      }
    }
    expect(packedCacheStats().entries).toBe(3);
    // A weight larger than the bound is never cached.
    const big = fromData(rand(64 * 64), [64, 64]);
    const y = fromData(rand(9 * 64), [9, 64]);
    for (let i = 0; i < 3; i++) checkProduct(y, big, false);
    expect(packedCacheStats().entries).toBe(3);
    for (const t of [...ws, x, big, y]) t.dispose();
    expect(packedCacheStats().entries).toBe(0);
  });

  it('ignores buffers it does not hold', () => {
    forgetPackedB(new Float32Array(4));
    expect(packedCacheStats().entries).toBe(0);
  });
});
