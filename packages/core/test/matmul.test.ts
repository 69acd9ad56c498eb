import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck, manualSeed, matmul, randn, tensor } from '@webrnn/core';

const f64 = { dtype: 'float64' as const };

/** The naive triple loop over dense row-major data: the reference. */
function naive(a: Float64Array, b: Float64Array, M: number, K: number, N: number, ta: boolean, tb: boolean) {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++)
        s += (ta ? a[k * M + i]! : a[i * K + k]!) * (tb ? b[j * K + k]! : b[k * N + j]!);
      out[i * N + j] = s;
    }
  return out;
}

describe('matmul', () => {
  it('matches the naive loop for any sizes (tile edges, thin and short-K paths) and transposes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 23 }),
        fc.boolean(),
        fc.boolean(),
        (M, K, N, ta, tb) => {
          manualSeed(M * 1000 + K * 10 + N);
          const a = randn(ta ? [K, M] : [M, K], f64);
          const b = randn(tb ? [N, K] : [K, N], f64);
          const got = matmul(a, b, { transA: ta, transB: tb }).dataSync();
          const want = naive(a.dataSync() as Float64Array, b.dataSync() as Float64Array, M, K, N, ta, tb);
          want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('broadcasts batch dims and promotes 1-D operands like PyTorch', () => {
    const a = randn([2, 1, 3, 4], f64);
    const b = randn([5, 4, 2], f64);
    expect(matmul(a, b).shape).toEqual([2, 5, 3, 2]);
    expect(matmul(randn([4]), randn([4, 3])).shape).toEqual([3]);
    expect(matmul(randn([3, 4]), randn([4])).shape).toEqual([3]);
    expect(matmul(randn([4]), randn([4])).shape).toEqual([]);
    const i32 = matmul(tensor([[1, 2]], { dtype: 'int32' }), tensor([[3], [4]], { dtype: 'int32' }));
    expect(Array.from(i32.dataSync())).toEqual([11]);
  });

  it('has correct gradients with transposes, batches and broadcasting', () => {
    manualSeed(5);
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = randn(ta ? [2, 4, 3] : [2, 3, 4], f64).requiresGrad_();
      const b = randn(tb ? [5, 4] : [4, 5], f64).requiresGrad_();
      expect(gradcheck((x, y) => matmul(x!, y!, { transA: ta, transB: tb }), [a, b])).toBe(true);
    }
    const v = randn([3], f64).requiresGrad_();
    const m = randn([3, 2], f64).requiresGrad_();
    expect(gradcheck((x, y) => matmul(x!, y!), [v, m])).toBe(true);
  });

  it('rejects mismatched inner dimensions and dtypes', () => {
    expect(() => matmul(randn([2, 3]), randn([4, 5]))).toThrow(
      'matmul: inner dimensions differ: [2, 3] x [4, 5] (3 vs 4)',
    );
    expect(() => matmul(randn([2, 3]), randn([3, 2], f64))).toThrow(
      'matmul: dtype mismatch: float32 and float64',
    );
    expect(() => matmul(randn([2, 2, 3]), randn([3, 3, 2]))).toThrow(/cannot be broadcast/);
  });
});
