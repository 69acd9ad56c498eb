import fc from 'fast-check';
import * as core from '@webrnn/core';
import {
  ARITH,
  EXACT,
  F,
  I,
  type OpEntry,
  TRANSCENDENTAL,
  type Tolerance,
  axesArb,
  axisArb,
  bigDim,
  broadcastArb,
  norm,
  shapeArb,
  sizeOf,
  smallDim,
  summed,
} from '../cases.js';

/** matmul, reductions, scans and sorts, softmax, losses, the fused cells and sequences. */

type MatmulKind = 'dot' | 'vm' | 'mv' | 'mm' | 'bmm';

export const MATMUL: OpEntry[] = [
  {
    op: 'matmul',
    gen: fc
      .record({
        kind: fc.constantFrom<MatmulKind>('dot', 'vm', 'mv', 'mm', 'mm', 'bmm', 'bmm'),
        M: bigDim,
        N: bigDim,
        K: bigDim,
        batch: broadcastArb(2, 2),
        transA: fc.boolean(),
        transB: fc.boolean(),
        int: fc.oneof(
          { weight: 4, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
      })
      .map(({ kind, M, N, K, batch: [ba, bb], transA, transB, int }) => {
        const vecA = kind === 'dot' || kind === 'vm';
        const vecB = kind === 'dot' || kind === 'mv';
        const mat = (rows: number, cols: number, trans: boolean, b: number[]) =>
          trans ? [...b, cols, rows] : [...b, rows, cols];
        const a = vecA ? [K] : mat(M, K, transA, kind === 'bmm' ? ba! : []);
        const b = vecB ? [K] : mat(K, N, transB, kind === 'bmm' ? bb! : []);
        const make = (s: number[]) => (int ? I(s) : F(s));
        return {
          inputs: [make(a), make(b)],
          params: { transA: transA && !vecA, transB: transB && !vecB, K },
        };
      }),
    run: ([a, b], { transA, transB }) => core.matmul(a!, b!, { transA, transB }),
    tol: (c) => summed((c.params as { K: number }).K),
    shadow: true,
  },
  {
    // c + a b with c a full [M, N], a bias row [N], a column [M, 1] or a scalar (the broadcasts addmm takes).
    op: 'addmm',
    gen: fc
      .record({
        M: bigDim,
        N: bigDim,
        K: bigDim,
        c: fc.constantFrom('full', 'row', 'column', 'scalar'),
        transA: fc.boolean(),
        transB: fc.boolean(),
      })
      .map(({ M, N, K, c, transA, transB }) => {
        const cShape = { full: [M, N], row: [N], column: [M, 1], scalar: [] }[c];
        return {
          inputs: [F(cShape), F(transA ? [K, M] : [M, K]), F(transB ? [N, K] : [K, N])],
          params: { transA, transB, K },
        };
      }),
    run: ([c, a, b], { transA, transB }) => core.addmm(c!, a!, b!, { transA, transB }),
    tol: (c) => summed((c.params as { K: number }).K + 1),
    shadow: true,
  },
];

const reduceInput = (int: boolean, domain: 'any' | 'grid' = 'any') =>
  shapeArb().chain((shape) =>
    fc
      .tuple(axesArb(shape.length), fc.boolean(), int ? fc.boolean() : fc.constant(false))
      .map(([axes, keepdim, isInt]) => ({
        inputs: [isInt ? I(shape) : F(shape, domain)],
        params: { axes, keepdim, n: sizeOf(shape) },
      })),
  );

type ReduceFn = (x: core.Tensor, axes: number | number[] | undefined, o: { keepdim: boolean }) => core.Tensor;
const lengthTol = (c: { params?: unknown }): Tolerance => summed((c.params as { n: number }).n);

export const REDUCE: OpEntry[] = [
  ...(['sum', 'mean'] as const).map(
    (op): OpEntry => ({
      op,
      gen: reduceInput(true),
      run: ([x], { axes, keepdim }) => (core[op] as ReduceFn)(x!, axes, { keepdim }),
      tol: lengthTol,
      shadow: true,
    }),
  ),
  ...(['max', 'min'] as const).map(
    (op): OpEntry => ({
      op,
      gen: reduceInput(true, 'grid'),
      run: ([x], { axes, keepdim }) => (core[op] as ReduceFn)(x!, axes, { keepdim }),
      // The gradient is shared among ties: a division.
      tol: ARITH,
    }),
  ),
  ...(['argmax', 'argmin'] as const).map(
    (op): OpEntry => ({
      op,
      gen: shapeArb().chain((shape) =>
        fc
          .tuple(
            shape.length ? fc.option(axisArb(shape.length)) : fc.constant(null),
            fc.boolean(),
            fc.boolean(),
          )
          .map(([axis, keepdim, int]) => ({
            inputs: [int ? I(shape) : F(shape, 'grid')],
            params: { axis, keepdim },
          })),
      ),
      run: ([x], { axis, keepdim }) => core[op](x!, axis ?? undefined, { keepdim }),
      tol: EXACT,
    }),
  ),
  {
    op: 'sumTo',
    gen: broadcastArb(1).chain(([target]) =>
      fc.array(smallDim, { minLength: 0, maxLength: 1 }).chain((lead) =>
        fc.array(smallDim, { minLength: target!.length, maxLength: target!.length }).map((sizes) => {
          const shape = [...lead, ...target!.map((d, i) => (d === 1 ? sizes[i]! : d))];
          return { inputs: [F(shape)], params: { target, n: sizeOf(shape) } };
        }),
      ),
    ),
    run: ([x], { target }) => core.sumTo(x!, target),
    tol: lengthTol,
    shadow: true,
  },
];

export const SOFTMAX: OpEntry[] = (['softmax', 'logSoftmax'] as const).map(
  (op): OpEntry => ({
    op,
    gen: shapeArb().chain((shape) =>
      axisArb(Math.max(shape.length, 1)).map((axis) => ({
        inputs: [F(shape)],
        params: { axis: shape.length ? axis : 0, n: shape.length ? shape[norm(axis, shape.length)]! : 1 },
      })),
    ),
    run: ([x], { axis }) => core[op](x!, axis),
    // The gradient sums over the axis (g - softmax * sum(g)): its rounding grows with the axis length.
    tol: (c) => ({ rtol: TRANSCENDENTAL.rtol, ftol: TRANSCENDENTAL.ftol + lengthTol(c).ftol }),
  }),
);

/** cumsum: a scan of the axis (ints wrap as the CPU's adds); rounding grows with the axis length, as a sum's. */
export const SCAN: OpEntry[] = [
  {
    op: 'cumsum',
    gen: shapeArb().chain((shape) =>
      fc.tuple(axisArb(Math.max(shape.length, 1)), fc.boolean()).map(([axis, int]) => ({
        inputs: [int ? I(shape) : F(shape)],
        params: { axis: shape.length ? axis : 0, n: shape.length ? shape[norm(axis, shape.length)]! : 1 },
      })),
    ),
    run: ([x], { axis }) => core.cumsum(x!, axis),
    tol: lengthTol,
    shadow: true,
  },
];

/** sort and topk: exact (values are gathered; ties, NaN and +-Inf included, on the grid domain too). */
const sortInput = (withK: boolean) =>
  shapeArb().chain((shape) =>
    fc
      .tuple(
        axisArb(Math.max(shape.length, 1)),
        fc.constantFrom<'int' | 'any' | 'grid'>('int', 'any', 'grid'),
        fc.boolean(),
        fc.integer({ min: 0, max: 99 }),
      )
      .map(([axis, kind, flag, kr]) => {
        const n = shape.length ? shape[norm(axis, shape.length)]! : 1;
        return {
          inputs: [kind === 'int' ? I(shape) : F(shape, kind)],
          params: { axis: shape.length ? axis : 0, flag, k: withK && shape.length ? kr % (n + 1) : 1 },
        };
      }),
  );

export const SORT: OpEntry[] = [
  {
    op: 'sort',
    gen: sortInput(false),
    run: ([x], { axis, flag }) => {
      const s = core.sort(x!, axis, { descending: flag });
      return [s.values, s.indices];
    },
    tol: EXACT,
  },
  {
    op: 'topk',
    gen: sortInput(true),
    run: ([x], { axis, flag, k }) => {
      const s = core.topk(x!, k, axis, { largest: flag });
      return [s.values, s.indices];
    },
    tol: EXACT,
  },
];

const reduction = fc.constantFrom<core.Reduction>('mean', 'sum', 'none');

const classArgs = fc
  .record({ N: smallDim, C: fc.integer({ min: 1, max: 12 }), single: fc.boolean(), reduction })
  .map(({ N, C, single, reduction: r }) => ({
    inputs: single ? [F([C]), I([], { index: C })] : [F([N, C]), I([N], { index: C })],
    params: { r, n: N * C },
  }));

export const LOSS: OpEntry[] = [
  {
    op: 'nll',
    gen: classArgs,
    run: ([x, t], { r }) => core.nll(x!, t!, r),
    tol: lengthTol,
  },
  {
    op: 'crossEntropy',
    gen: classArgs,
    run: ([x, t], { r }) => core.crossEntropy(x!, t!, r),
    tol: (c) => ({ rtol: 2e-5, ftol: lengthTol(c).ftol + 1e-6 }),
  },
  {
    op: 'mse',
    gen: fc
      .record({ shape: shapeArb(), reduction })
      .map(({ shape, reduction: r }) => ({ inputs: [F(shape), F(shape)], params: { r, n: sizeOf(shape) } })),
    run: ([a, b], { r }) => core.mse(a!, b!, r),
    tol: lengthTol,
  },
  {
    op: 'bce',
    gen: fc
      .record({ shape: shapeArb(), reduction, weighted: fc.boolean(), edge: fc.boolean() })
      .map(({ shape, reduction: r, weighted, edge }) => ({
        // 'mask' probabilities are exactly 0 and 1: Torch's epsilon keeps the loss finite on every device.
        inputs: [
          F(shape, edge ? 'mask' : 'prob'),
          F(shape, 'prob'),
          ...(weighted ? [F(shape.slice(1), 'pos', false)] : []),
        ],
        params: { r, n: sizeOf(shape) },
      })),
    run: ([p, t, w], { r }) => core.bce(p!, t!, r, w),
    tol: (c) => ({ rtol: 2e-5, ftol: lengthTol(c).ftol + 1e-6 }),
    specials: false,
  },
];

const CELL_TOL: Tolerance = { rtol: 5e-5, ftol: 5e-6 };
const ORDERS = ['izfo', 'ifog', 'ifgo'] as const;

export const CELLS: OpEntry[] = [
  {
    op: 'lstmCell',
    gen: fc
      .record({ N: smallDim, H: fc.integer({ min: 1, max: 9 }), order: fc.constantFrom(...ORDERS) })
      .map(({ N, H, order }) => ({ inputs: [F([N, 4 * H]), F([N, H])], params: order })),
    run: ([g, c], order) => core.lstmCell(g!, c!, order),
    tol: CELL_TOL,
  },
  {
    op: 'gruCell',
    gen: fc
      .record({ N: smallDim, H: fc.integer({ min: 1, max: 9 }), transU: fc.boolean() })
      .map(({ N, H, transU }) => ({
        inputs: [F([N, 2 * H]), F([N, H]), F([N, H]), F([H, H])],
        params: { transU, n: H },
      })),
    run: ([g, xc, h, u], { transU }) => core.gruCell(g!, xc!, h!, u!, { transU }),
    tol: (c) => ({ rtol: 5e-5, ftol: 5e-6 + summed((c.params as { n: number }).n).ftol }),
  },
  {
    op: 'lstmSequence',
    gen: fc
      .record({
        T: fc.integer({ min: 1, max: 4 }),
        N: fc.integer({ min: 1, max: 3 }),
        H: fc.integer({ min: 1, max: 6 }),
        R: fc.option(fc.integer({ min: 1, max: 5 })),
        masked: fc.boolean(),
        order: fc.constantFrom(...ORDERS),
      })
      .map(({ T, N, H, R, masked, order }) => {
        const r = R ?? H;
        return {
          inputs: [
            F([T, N, 4 * H]),
            F([r, 4 * H]),
            F([N, r]),
            F([N, H]),
            ...(masked ? [F([T, N, 1], 'mask', false)] : []),
            ...(R !== null ? [F([H, r])] : []),
          ],
          params: { order, masked, projected: R !== null },
        };
      }),
    run: (xs, { order, masked, projected }) => {
      const [gx, wh, h0, c0] = xs;
      const keep = masked ? xs[4]! : null;
      const projection = projected ? xs[xs.length - 1]! : null;
      return core.lstmSequence(gx!, wh!, h0!, c0!, { order, keep, projection });
    },
    tol: { rtol: 2e-4, ftol: 2e-5 },
  },
  {
    op: 'gruSequence',
    gen: fc
      .record({
        T: fc.integer({ min: 1, max: 4 }),
        N: fc.integer({ min: 1, max: 3 }),
        H: fc.integer({ min: 1, max: 6 }),
        masked: fc.boolean(),
      })
      .map(({ T, N, H, masked }) => ({
        inputs: [
          F([T, N, 3 * H]),
          F([H, 3 * H]),
          F([N, H]),
          ...(masked ? [F([T, N, 1], 'mask', false)] : []),
        ],
      })),
    run: ([gx, wh, h0, keep]) => core.gruSequence(gx!, wh!, h0!, { keep: keep ?? null }),
    tol: { rtol: 2e-4, ftol: 2e-5 },
  },
];

export const AUTOGRAD: OpEntry[] = [
  {
    op: 'withLoss',
    gen: shapeArb().map((shape) => ({ inputs: [F(shape), F([])] })),
    run: ([x, l]) => core.withLoss(x!, l!),
    tol: EXACT,
  },
  {
    op: 'boundary',
    gen: fc
      .record({ shape: shapeArb(), int: fc.boolean() })
      .map(({ shape, int }) => ({ inputs: [int ? I(shape) : F(shape)] })),
    run: ([x]) => core.boundary(x!),
    tol: EXACT,
  },
];
