import fc from 'fast-check';
import type { DType, Tensor } from '@webrnn/core';

/**
 * What the differential harness knows of an op: how to draw its inputs (shapes, dtypes, value domains and
 * parameters) and how to call it. The harness adds the view chains, the values, the devices and the comparison.
 */

/** Value domains of an input. Every value is exact in float32, so all devices start from the same numbers. */
export type Domain =
  | 'any' // [-3, 3]
  | 'pos' // [0.3, 2.5]: log, sqrt, pow bases
  | 'away' // |x| in [0.25, 2.5]: divisors, reciprocal, abs
  | 'prob' // [0.05, 0.95]
  | 'grid' // multiples of 0.5 in [-3, 3]: ties and equal values on purpose
  | 'mask' // 0 or 1
  | 'int' // int32 in [-20, 20]
  | 'intNonZero' // int32 in [-9, 9] without 0
  | { readonly index: number }; // int32 in [0, n)

export interface InputSpec {
  readonly shape: readonly number[];
  /** 'float' runs as float64 on the reference and float32 on the devices compared with it. */
  readonly dtype: 'float' | 'int32';
  readonly domain: Domain;
  /** Differentiate with respect to this input (float inputs; default true). */
  readonly grad?: boolean;
  /** Whether the input may be reached through a chain of views (default true). */
  readonly views?: boolean;
}

export interface OpCase {
  readonly inputs: readonly InputSpec[];
  /** The op's other arguments (axes, options, numbers). */
  readonly params?: unknown;
}

/** |got - ref| <= rtol |ref| + ftol max|ref|, elementwise (max over the tensor: a normwise floor). */
export interface Tolerance {
  readonly rtol: number;
  readonly ftol: number;
}

export interface RunContext {
  readonly device: 'cpu' | 'webgpu';
  /** The float dtype of this run: float64 for the reference, float32 for the devices under test. */
  readonly float: DType;
  /** The inputs' dense bases (what in-place ops write into). */
  readonly bases: readonly Tensor[];
  /** Hand the harness something to dispose after the run (a module, say). */
  readonly own: (d: { dispose(): void }) => void;
}

/**
 * What `run` returns: the outputs, or the outputs with more tensors whose gradients are compared too (a module's
 * parameters: leaves made inside `run`).
 */
export type RunResult =
  | Tensor
  | readonly Tensor[]
  | { readonly outputs: readonly Tensor[]; readonly watch: readonly Tensor[] };

export interface OpEntry {
  /** The export of @webrnn/core this entry calls, and a label when several entries share one. */
  readonly op: string;
  readonly label?: string;
  readonly gen: fc.Arbitrary<OpCase>;
  // biome-ignore lint/suspicious/noExplicitAny: each entry knows its own params
  readonly run: (xs: readonly Tensor[], params: any, ctx: RunContext) => RunResult;
  /** Forward tolerance against the float64 reference (gradients get at least GRAD_TOL); exact when absent. */
  readonly tol?: Tolerance | ((c: OpCase) => Tolerance);
  /**
   * A sum of products (matmul, sum, mean): its tolerance's ftol applies to the same computation on absolute values
   * (the sum of absolute terms, the classic rounding bound) instead of to the largest result.
   */
  readonly shadow?: boolean;
  /** Mix NaN, +-Inf and +-0 into float inputs in some cases (default true). */
  readonly specials?: boolean;
}

export const EXACT: Tolerance = { rtol: 0, ftol: 0 };
/** f32 arithmetic (a few roundings). */
export const ARITH: Tolerance = { rtol: 2e-6, ftol: 1e-7 };
/** WGSL's exp/log/tanh/pow are allowed a few ULP more than correctly rounded. */
export const TRANSCENDENTAL: Tolerance = { rtol: 2e-5, ftol: 1e-6 };
/** Sums of `n` terms: rounding grows with the length, relative to the terms (see `shadow`) or the largest result. */
export const summed = (n: number): Tolerance => ({ rtol: 2e-6, ftol: 2e-7 * (n + 4) });
/** Gradients flow through sums (broadcasts, views, the seed): at least this much. */
export const GRAD_TOL: Tolerance = { rtol: 2e-5, ftol: 2e-6 };

// ---- arbitraries the entries share --------------------------------------------------------------------------

/** A small dim: empty and size-1 dims appear, most dims are 2..5. */
export const smallDim = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constant(1) },
  { weight: 6, arbitrary: fc.integer({ min: 2, max: 5 }) },
);

/** A dim that is sometimes odd and up to 70 (tile edges and long rows). */
export const bigDim = fc.oneof(
  { weight: 2, arbitrary: smallDim },
  { weight: 2, arbitrary: fc.integer({ min: 6, max: 70 }) },
  { weight: 1, arbitrary: fc.constantFrom(31, 32, 33, 63, 64, 65) },
);

/** Rank minRank..maxRank, small dims, one of them sometimes large (so sizes stay moderate). */
export const shapeArb = (minRank = 0, maxRank = 4, minDim = 0): fc.Arbitrary<number[]> =>
  fc.integer({ min: minRank, max: maxRank }).chain((r) =>
    fc
      .tuple(
        fc.array(smallDim, { minLength: r, maxLength: r }),
        fc.integer({ min: 0, max: Math.max(0, r - 1) }),
        fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: bigDim }),
      )
      .map(([dims, at, big]) => {
        const s = dims.map((d) => Math.max(d, minDim));
        if (r > 0 && big >= minDim && big >= 0 && r <= 3) s[at] = big;
        return s;
      }),
  );

/** `n` shapes that broadcast together (numpy rules): drop leading dims, turn dims into 1. */
export const broadcastArb = (n: number, maxRank = 4): fc.Arbitrary<number[][]> =>
  shapeArb(0, maxRank).chain((out) =>
    fc.tuple(
      ...Array.from({ length: n }, () =>
        fc
          .tuple(
            fc.integer({ min: 0, max: out.length }),
            fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
            fc.boolean(),
          )
          .map(([drop, ones, full]) =>
            full ? [...out] : out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
          ),
      ),
    ),
  );

/** An axis of rank `r` (>= 1), in either spelling. */
export const axisArb = (r: number) => fc.integer({ min: -r, max: r - 1 });

export const norm = (a: number, r: number) => (a < 0 ? a + r : a);

/** A set of axes, a single axis, or undefined (all). */
export const axesArb = (r: number): fc.Arbitrary<number | number[] | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    ...(r > 0 ? [axisArb(r)] : []),
    fc.shuffledSubarray(
      Array.from({ length: r }, (_, i) => i),
      { minLength: 0, maxLength: r },
    ),
  );

export const F = (shape: readonly number[], domain: Domain = 'any', grad = true): InputSpec => ({
  shape,
  dtype: 'float',
  domain,
  grad,
});
export const I = (shape: readonly number[], domain: Domain = 'int'): InputSpec => ({
  shape,
  dtype: 'int32',
  domain,
});
export const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
