import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { View } from '../src/backends/backend.js';
import { matmulCpu } from '../src/backends/cpu/matmul.js';
import { type DType, type TypedArray, typedArrayFor } from '../src/dtype.js';

/**
 * The CPU matmul kernel on hand-built views, against a naive float64 triple loop: every path (the unpacked
 * thin/small kernel, the packed 4x4 kernel with its edge tiles, several K chunks, batches folded into rows or
 * with B packed once), any strides (transposed operands, batch dims broadcast with stride 0), nonzero offsets,
 * and the three dtypes. Tolerances grow with K for floats; int32 must be exact.
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261128);

interface Case {
  readonly dtype: DType;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Leading (batch) dims of the output. */
  readonly batch: readonly number[];
  /** Per batch dim: whether A / B is shared along it (stride 0). */
  readonly shareA: readonly boolean[];
  readonly shareB: readonly boolean[];
  /** Whether A is stored as [.., K, M] (a transposed view) and B as [.., N, K]. */
  readonly transA: boolean;
  readonly transB: boolean;
  readonly offA: number;
  readonly offB: number;
  readonly offOut: number;
  readonly seed: number;
}

/** Deterministic values: small integers for int32, float32-exact values in [-1, 1] for floats. */
function fillRandom(arr: TypedArray, dtype: DType, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < arr.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    arr[i] = dtype === 'int32' ? Math.floor(u * 41) - 20 : Math.fround(u * 2 - 1);
  }
}

/**
 * A strided operand [...batch, rows, cols] over a fresh buffer: batch dims where `share` is set are stored once
 * (stride 0), and `trans` stores the matrix column-major (strides [1, rows]).
 */
function operand(
  dtype: DType,
  batch: readonly number[],
  share: readonly boolean[],
  rows: number,
  cols: number,
  trans: boolean,
  offset: number,
  seed: number,
): View {
  const strides = new Array<number>(batch.length + 2);
  strides[batch.length] = trans ? 1 : cols;
  strides[batch.length + 1] = trans ? rows : 1;
  let size = rows * cols;
  for (let d = batch.length - 1; d >= 0; d--) {
    strides[d] = share[d] ? 0 : size;
    if (!share[d]) size *= batch[d]!;
  }
  const buffer = typedArrayFor(dtype, offset + size);
  fillRandom(buffer, dtype, seed);
  return { buffer, dtype, shape: [...batch, rows, cols], strides, offset };
}

/** Element (batch index, i, j) of a view, by its strides. */
function at(v: View, bidx: readonly number[], i: number, j: number): number {
  const r = v.shape.length;
  let o = v.offset + i * v.strides[r - 2]! + j * v.strides[r - 1]!;
  for (let d = 0; d < bidx.length; d++) o += bidx[d]! * v.strides[d]!;
  return (v.buffer as TypedArray)[o]!;
}

function maxAbs(v: View): number {
  let m = 0;
  for (const x of v.buffer as TypedArray) m = Math.max(m, Math.abs(x));
  return m;
}

/** Runs matmulCpu on the case and compares every output element with the float64 triple loop. */
function check(c: Case): void {
  const { dtype, M, N, K, batch } = c;
  const a = operand(dtype, batch, c.shareA, M, K, c.transA, c.offA, c.seed);
  const b = operand(dtype, batch, c.shareB, K, N, c.transB, c.offB, c.seed + 7919);
  const nb = batch.reduce((x, y) => x * y, 1);
  const outStrides = [...batch, M, N].map((_, d, s) => s.slice(d + 1).reduce((x, y) => x * y, 1));
  const guard = 3;
  const buffer = typedArrayFor(dtype, c.offOut + nb * M * N + guard);
  buffer.fill(-77); // garbage: every output element must be written
  const out: View = { buffer, dtype, shape: [...batch, M, N], strides: outStrides, offset: c.offOut };
  matmulCpu(a, b, out);

  const scale = maxAbs(a) * maxAbs(b);
  const tol = dtype === 'int32' ? 0 : (dtype === 'float32' ? 1e-5 : 1e-12) * Math.max(K, 1) * scale;
  const bidx = new Array<number>(batch.length).fill(0);
  for (let q = 0; q < nb; q++) {
    let rem = q;
    for (let d = batch.length - 1; d >= 0; d--) {
      bidx[d] = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(a, bidx, i, k) * at(b, bidx, k, j);
        const got = buffer[c.offOut + q * M * N + i * N + j]!;
        if (dtype === 'int32') s |= 0;
        if (!(Math.abs(got - s) <= tol)) {
          expect.fail(`out[${q}, ${i}, ${j}] = ${got}, want ${s} (tolerance ${tol})`);
        }
      }
    }
  }
  for (let g = 0; g < c.offOut; g++) expect(buffer[g]).toBe(-77);
  for (let g = 0; g < guard; g++) expect(buffer[c.offOut + nb * M * N + g]).toBe(-77);
}

const dtypeArb = fc.constantFrom<DType>('float32', 'float64', 'int32');

/** Cases with the given ranges of M, N, K and up to two batch dims of 1..3, each shared by A or B or neither. */
const caseArb = (mn: { min: number; max: number }, k: { min: number; max: number }, maxBatchDims = 2) =>
  fc
    .record({
      dtype: dtypeArb,
      M: fc.integer(mn),
      N: fc.integer(mn),
      K: fc.integer(k),
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: maxBatchDims }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      offA: fc.integer({ min: 0, max: 5 }),
      offB: fc.integer({ min: 0, max: 5 }),
      offOut: fc.integer({ min: 0, max: 3 }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
    })
    .chain((c) =>
      fc
        .tuple(
          fc.array(fc.boolean(), { minLength: c.batch.length, maxLength: c.batch.length }),
          fc.array(fc.boolean(), { minLength: c.batch.length, maxLength: c.batch.length }),
        )
        .map(([shareA, shareB]): Case => ({ ...c, shareA, shareB })),
    );

const base: Omit<Case, 'dtype' | 'M' | 'N' | 'K'> = {
  batch: [],
  shareA: [],
  shareB: [],
  transA: false,
  transB: false,
  offA: 0,
  offB: 0,
  offOut: 0,
  seed: 1,
};

describe('matmulCpu', () => {
  it('matches the naive loop for M, N, K in 0..70, batches, broadcasts, transposes and offsets', () => {
    fc.assert(
      fc.property(caseArb({ min: 0, max: 70 }, { min: 0, max: 70 }), (c) => check(c)),
      { numRuns: 250, seed: SEED },
    );
  });

  it('matches it across several K chunks (K up to 600) and tile edges', () => {
    fc.assert(
      fc.property(caseArb({ min: 1, max: 21 }, { min: 200, max: 600 }, 1), (c) => check(c)),
      { numRuns: 40, seed: SEED },
    );
  });

  it('handles the boundary shapes of each path', () => {
    const shapes: [number, number, number][] = [
      [0, 5, 5],
      [5, 0, 5],
      [5, 5, 0],
      [0, 0, 0],
      [1, 1, 1],
      [1, 1200, 300], // matrix-vector
      [3, 9, 8],
      [7, 3, 100], // few columns
      [8, 4, 8],
      [16, 16, 16],
      [65, 67, 9], // two MC blocks, edge tiles on both sides
      [80, 120, 257], // LSTM-like, K one past a chunk
      [130, 33, 512],
    ];
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      for (const [M, N, K] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) check({ ...base, dtype, M, N, K, transA, transB });
        }
      }
    }
  });

  it('folds a batch into rows when B is shared, and reuses packed B when A is not foldable', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      // [2, 3] batches of [20, 30] x shared [30, 12]: one [120, 30] x [30, 12] product.
      check({ ...base, dtype, M: 20, N: 12, K: 30, batch: [2, 3], shareB: [true, true], offA: 2, offOut: 1 });
      // A transposed per batch: its batch dims do not continue its rows, so B is packed once for all.
      check({ ...base, dtype, M: 20, N: 12, K: 30, batch: [4], shareB: [true], transA: true });
      // B shared along one dim only, A shared along the other.
      check({
        ...base,
        dtype,
        M: 17,
        N: 9,
        K: 40,
        batch: [3, 2],
        shareA: [false, true],
        shareB: [true, false],
      });
    }
  });

  it('zeroes the output when K = 0 and leaves empty outputs alone', () => {
    check({ ...base, dtype: 'float32', M: 6, N: 5, K: 0, batch: [2], offOut: 2 });
    check({ ...base, dtype: 'int32', M: 0, N: 5, K: 4, batch: [3] });
    check({ ...base, dtype: 'float64', M: 4, N: 5, K: 4, batch: [0] });
  });

  it('wraps int32 products like Int32Array stores', () => {
    const a: View = {
      buffer: Int32Array.of(1 << 20),
      dtype: 'int32',
      shape: [1, 1],
      strides: [1, 1],
      offset: 0,
    };
    const b: View = {
      buffer: Int32Array.of(1 << 12),
      dtype: 'int32',
      shape: [1, 1],
      strides: [1, 1],
      offset: 0,
    };
    const out: View = {
      buffer: new Int32Array(1),
      dtype: 'int32',
      shape: [1, 1],
      strides: [1, 1],
      offset: 0,
    };
    matmulCpu(a, b, out);
    expect((out.buffer as Int32Array)[0]).toBe(0); // 2^32 wraps to 0
  });
});
