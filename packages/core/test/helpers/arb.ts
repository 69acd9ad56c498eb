import fc from 'fast-check';
import { expect } from 'vitest';
import { realIn } from './reals.js';
import {
  type DType,
  type Tensor,
  contiguous,
  full,
  narrow,
  noGrad,
  select,
  tensor,
  transpose,
} from '@webrnn/core';

/**
 * Shared fast-check arbitraries for the core tests: shapes (with size-1 and empty dims), sets of shapes that
 * broadcast together, values in the domain an op needs, and memory layouts (contiguous, transposed, narrowed)
 * to build inputs that are strided views.
 */

/** One seed for every property in the core tests, so a failure replays; WEBRNN_FC_SEED overrides it. */
export const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261128);

/** fast-check parameters: stable seed, `numRuns` runs. */
export const runs = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED });

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Weighted choice among integers: `weights[i]` for min + i (a plain integer arbitrary favours the bounds). */
const weighted = (min: number, max: number, weight: (v: number) => number): fc.Arbitrary<number> =>
  fc.oneof(
    ...Array.from({ length: max - min + 1 }, (_, i) => ({
      arbitrary: fc.constant(min + i),
      weight: weight(min + i),
    })),
  );

/** A dim size in [min, max]: empty (0) and size-1 dims appear, but most dims are 2 or more. */
export const dim = (min = 0, max = 3): fc.Arbitrary<number> =>
  weighted(min, max, (v) => (v === 0 ? 1 : v === 1 ? 2 : 4));

/** A shape of rank minRank..maxRank (higher ranks more often) with dims minDim..maxDim (0 gives empty tensors). */
export const shapeArb = (minRank = 0, maxRank = 3, minDim = 0, maxDim = 3): fc.Arbitrary<number[]> =>
  weighted(minRank, maxRank, (r) => (r === 0 ? 1 : r === 1 ? 2 : 3)).chain((r) =>
    fc.array(dim(minDim, maxDim), { minLength: r, maxLength: r }),
  );

/**
 * `n` shapes that broadcast together (numpy rules): each takes a common shape, drops some leading dims and turns
 * some dims into 1, so both one-sided ([2, 3] with [3]) and mutual ([3, 1] with [1, 4]) broadcasts appear.
 */
export const broadcastShapesArb = (
  n: number,
  maxRank = 3,
  minDim = 0,
  maxDim = 3,
): fc.Arbitrary<number[][]> =>
  shapeArb(0, maxRank, minDim, maxDim).chain((out) =>
    fc.tuple(
      ...Array.from({ length: n }, () =>
        fc
          .tuple(
            weighted(0, out.length, (k) => (k === 0 ? out.length + 1 : 1)),
            fc.array(
              weighted(0, 2, (v) => (v === 0 ? 1 : 1)),
              { minLength: out.length, maxLength: out.length },
            ),
          )
          .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] === 0 ? 1 : d))),
      ),
    ),
  );

/** An axis of a tensor of rank `rank` (>= 1), in its positive or negative spelling. */
export const axisArb = (rank: number) => fc.integer({ min: -rank, max: rank - 1 });

/** A set of distinct axes (some negative), or a single axis, or undefined (all axes). */
export const axesArb = (rank: number): fc.Arbitrary<number | number[] | undefined> => {
  const all = Array.from({ length: rank }, (_, i) => i);
  const spelled = (a: number) => fc.boolean().map((neg) => (neg ? a - rank : a));
  return fc.oneof(
    fc.constant(undefined),
    ...(rank > 0 ? [axisArb(rank)] : []),
    fc.shuffledSubarray(all).chain((sub) => fc.tuple(...sub.map(spelled))),
  );
};

export const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

/**
 * Value domains. 'any' is [-3, 3]; 'pos' keeps log/sqrt/pow bases positive; 'away' keeps |x| >= 0.25 (abs,
 * relu, reciprocal, divisors: away from kinks and poles); 'distinct' gives values at least 0.01 apart (max/min
 * without ties); 'gridA' and 'gridB' are offset grids, so a value of one is never within 0.01 of a value of the
 * other (maximum/minimum without ties); 'prob' is inside (0, 1); 'clampSafe' stays 0.05 away from +-0.5 and +-1
 * (the bounds the clamp rows use); 'int' and 'intNonZero' are small integers (for int32 tensors).
 */
export type Kind =
  | 'any'
  | 'pos'
  | 'away'
  | 'distinct'
  | 'gridA'
  | 'gridB'
  | 'prob'
  | 'clampSafe'
  | 'int'
  | 'intNonZero';

/**
 * Values of `kind`, `n` of them, spread over each kind's range (realIn). For float32 the values are rounded to
 * float32 within float32 bounds, so that what is drawn is what the tensor holds.
 */
export function valuesArb(kind: Kind, n: number, dtype: DType = 'float64'): fc.Arbitrary<number[]> {
  const f32 = dtype === 'float32';
  const real = (min: number, max: number) => realIn(min, max, { f32 });
  const signed = (mag: fc.Arbitrary<number>) => fc.tuple(mag, fc.boolean()).map(([m, s]) => (s ? -m : m));
  const round = (v: number) => (f32 ? Math.fround(v) : v);
  const grid = (offset: number) => fc.integer({ min: -100, max: 100 }).map((k) => round(k * 0.02 + offset));
  const exactly = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: n, maxLength: n });
  switch (kind) {
    case 'any':
      return exactly(real(-3, 3));
    case 'pos':
      return exactly(real(0.3, 2.5));
    case 'away':
      return exactly(signed(real(0.25, 2.5)));
    case 'distinct':
      return fc
        .uniqueArray(fc.integer({ min: -250, max: 250 }), { minLength: n, maxLength: n })
        .map((ks) => ks.map((k) => round(k * 0.01 + 0.003)));
    case 'gridA':
      return exactly(grid(0.005));
    case 'gridB':
      return exactly(grid(0.015));
    case 'prob':
      return exactly(real(0.05, 0.95));
    case 'clampSafe':
      return exactly(signed(fc.oneof(real(0, 0.45), real(0.55, 0.95), real(1.05, 2.5))));
    case 'int':
      return exactly(fc.integer({ min: -20, max: 20 }));
    case 'intNonZero':
      return exactly(signed(fc.integer({ min: 1, max: 9 })));
  }
}

/**
 * How an input sits in memory: a dense tensor, the transpose of a dense tensor (last two axes; rank >= 2), or a
 * window narrowed out of a larger buffer filled with NaN (so a kernel that reads outside its view is caught; for
 * a 0-d input, an element selected out of such a buffer).
 */
export type Layout = 'contiguous' | 'transposed' | 'narrowed';
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'transposed', 'narrowed');

/**
 * A leaf tensor holding `values` (row-major for `shape`) in the given layout; the view is a leaf of its own (its
 * base does not require grad), so gradients land on the view itself.
 */
export function makeInput(
  values: readonly number[],
  shape: readonly number[],
  opts: { dtype?: DType; layout?: Layout; requiresGrad?: boolean } = {},
): Tensor {
  const dtype = opts.dtype ?? 'float64';
  const layout = opts.layout ?? 'contiguous';
  const r = shape.length;
  const x = noGrad(() => {
    const dense = tensor([...values], { shape, dtype });
    if (layout === 'transposed' && r >= 2) {
      const base = contiguous(transpose(dense));
      const v = transpose(base);
      for (const t of [dense, base]) t.dispose();
      return v;
    }
    if (layout === 'narrowed') {
      if (r === 0) {
        const big = full([3], dtype === 'int32' ? -1 : Number.NaN, { dtype });
        const v = select(big, 0, 1);
        v.copy_(dense);
        for (const t of [dense, big]) t.dispose();
        return v;
      }
      const axis = r - 1;
      const bigShape = shape.map((d, i) => (i === axis ? d + 2 : d));
      const big = full(bigShape, dtype === 'int32' ? -1 : Number.NaN, { dtype });
      const v = narrow(big, axis, 1, shape[axis]!);
      v.copy_(dense);
      for (const t of [dense, big]) t.dispose();
      return v;
    }
    return dense;
  });
  if (opts.requiresGrad) x.requiresGrad_();
  return x;
}

/** Integers in [0, n) (indices, classes), `count` of them; repeats allowed. */
export const indicesArb = (n: number, count: number): fc.Arbitrary<number[]> => {
  if (count === 0) return fc.constant([]);
  if (n <= 0) throw new Error(`indicesArb: no valid index in [0, ${n}) for ${count} positions`);
  return fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: count, maxLength: count });
};

/** Flat values of a tensor as plain numbers. */
export const flat = (t: Tensor): number[] => Array.from(t.dataSync());

/**
 * Element-wise comparison with a relative tolerance; NaN equals NaN, infinities must match exactly. Returns a
 * description of the first mismatch, or null.
 */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol * (1 + Math.abs(w))) continue;
    return `element ${i}: got ${g}, expected ${w}`;
  }
  return null;
}

/** Same shape, and every |a - b| < atol (absolute: for values of order one computed two ways). */
export function closeAbs(a: Tensor, b: Tensor, what: string, atol: number): void {
  expect(a.shape, what).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), `${what}[${i}]`).toBeLessThan(atol);
}
