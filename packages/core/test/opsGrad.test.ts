import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
import * as core from '@webrnn/core';
import { type Tensor, gradcheck, noGrad, tensor, tidy } from '@webrnn/core';
import {
  type Kind,
  type Layout,
  axesArb,
  axisArb,
  broadcastShapesArb,
  dim,
  flat,
  indicesArb,
  layoutArb,
  makeInput,
  mismatch,
  normAxis,
  runs,
  shapeArb,
  sizeOf,
  valuesArb,
} from './helpers/arb.js';

/**
 * One table of ops, and a property test per row: random shapes (broadcasting pairs, size-1 and empty dims where
 * the op allows them), random values in the op's domain, and random memory layouts of the inputs (dense,
 * transposed, narrowed out of a NaN-filled buffer). Each run checks the tape's gradients against float64 central
 * differences (gradcheck), and that the op gives the same values on the strided inputs as on dense copies.
 */

interface Case<P> {
  /** Shapes of the float inputs (each gets values, a layout and requiresGrad). */
  readonly shapes: number[][];
  /** The op's other arguments: axes, flags, index values... */
  readonly p: P;
}

interface Row<P = never> {
  readonly name: string;
  readonly cases: fc.Arbitrary<Case<P>>;
  /** Value domain of each input (one kind for all, or one per input); 'any' by default. */
  readonly kinds?: Kind | readonly Kind[];
  readonly fn: (xs: Tensor[], p: P) => Tensor | readonly Tensor[];
  /** Number of fast-check runs (default 100). */
  readonly numRuns?: number;
  /** Inputs are always dense (view needs a viewable input). */
  readonly denseOnly?: boolean;
}

// A heterogeneous table: each row is checked against its own P when written, then stored type-erased.
const row = <P>(r: Row<P>) => r as unknown as Row<unknown>;
const noP = (shapes: fc.Arbitrary<number[][]>): fc.Arbitrary<Case<undefined>> =>
  shapes.map((s) => ({ shapes: s, p: undefined }));

// ---- shape arbitraries ----------------------------------------------------------------------------------------

const anyShape = shapeArb(0, 3);
const one = noP(anyShape.map((s) => [s]));
const pair = noP(broadcastShapesArb(2));
/** A rank >= 1 shape and an axis of it. */
const withAxis = (minRank = 1, minDim = 0) =>
  shapeArb(minRank, 3, minDim).chain((s) => axisArb(s.length).map((axis) => ({ s, axis })));
/** A nonzero scalar operand. */
const scalar = fc
  .tuple(fc.double({ min: 0.5, max: 3, noNaN: true }), fc.boolean())
  .map(([m, s]) => (s ? -m : m));

/** Reduction cases: a shape, axes and keepdim; `nonEmpty` makes every reduced dim >= 1 (max/min/mean). */
const reduction = (nonEmpty: boolean, minRank = 0) =>
  shapeArb(minRank, 3).chain((s) =>
    fc.tuple(axesArb(s.length), fc.boolean()).map(([axes, keepdim]) => {
      const reduced =
        axes === undefined
          ? s.map((_, i) => i)
          : (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, s.length));
      const shape = nonEmpty ? s.map((d, i) => (reduced.includes(i) ? Math.max(1, d) : d)) : s;
      return { shapes: [shape], p: { axes, keepdim } };
    }),
  );

/** matmul operand shapes: a [...ba, M, K] (or [..., K, M] with transA), b likewise, batch dims broadcasting. */
const matmulCase = (opts: { batch: boolean; trans: boolean }) =>
  fc
    .record({
      m: dim(0, 3),
      k: dim(0, 3),
      n: dim(0, 3),
      batch: opts.batch ? broadcastShapesArb(2, 2, 1, 2) : fc.constant([[], []]),
      transA: opts.trans ? fc.boolean() : fc.constant(false),
      transB: opts.trans ? fc.boolean() : fc.constant(false),
    })
    .map(({ m, k, n, batch, transA, transB }) => ({
      shapes: [
        [...batch[0]!, ...(transA ? [k, m] : [m, k])],
        [...batch[1]!, ...(transB ? [n, k] : [k, n])],
      ],
      p: { transA, transB },
    }));

/** 1-D operands are promoted (a to a row, b to a column) and the added dim removed again (PyTorch). */
const matmul1dCase = fc
  .record({ m: dim(1, 3), k: dim(0, 3), n: dim(1, 3), b: dim(1, 2), variant: fc.integer({ min: 0, max: 4 }) })
  .map(({ m, k, n, b, variant }) => ({
    shapes: [
      [[k], [k, n]],
      [[m, k], [k]],
      [[k], [k]],
      [[k], [b, k, n]],
      [[b, m, k], [k]],
    ][variant]!,
    p: undefined,
  }));

/** Target shapes for reshape of `s`: flat, -1, reversed, with added 1s, two dims merged. */
function reshapeTargets(s: number[]): number[][] {
  const n = sizeOf(s);
  const out = [[n], [...s].reverse(), [1, ...s], [...s, 1], s];
  if (s.length >= 2) out.push([s[0]! * s[1]!, ...s.slice(2)]);
  if (n > 0) out.push([-1], [...s.slice(0, -1), -1]);
  return out.filter((t) => t.length > 0 || n === 1);
}
const reshapeCase = anyShape.chain((s) =>
  fc.constantFrom(...reshapeTargets(s)).map((target) => ({ shapes: [s], p: target })),
);

/** expand: an input with some dims 1, a target that stretches them, keeps others (or -1) and adds leading dims. */
const expandCase = shapeArb(0, 2, 0, 2).chain((s) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: s.length, maxLength: s.length }),
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
      fc.array(dim(0, 2), { minLength: 0, maxLength: 2 }),
    )
    .map(([ones, to, keep, lead]) => {
      const input = s.map((d, i) => (ones[i] ? 1 : d));
      const target = input.map((d, i) => (d === 1 ? to[i]! : keep[i] ? -1 : d));
      return { shapes: [input], p: [...lead, ...target] };
    }),
);

/** Shapes for cat: 1-3 tensors equal except along `axis`. */
const catCase = withAxis(1).chain(({ s, axis }) =>
  fc.array(dim(0, 3), { minLength: 1, maxLength: 3 }).map((sizes) => ({
    shapes: sizes.map((k) => s.map((d, i) => (i === normAxis(axis, s.length) ? k : d))),
    p: axis,
  })),
);

/** A sorted list of sizes adding up to n (random composition). */
const compositionArb = (n: number) =>
  fc.array(fc.boolean(), { minLength: Math.max(0, n - 1), maxLength: Math.max(0, n - 1) }).map((cuts) => {
    const sizes: number[] = [];
    let cur = 1;
    for (const c of cuts) {
      if (c) {
        sizes.push(cur);
        cur = 1;
      } else cur++;
    }
    return n === 0 ? [0] : [...sizes, cur];
  });

/** gather/scatterAdd: index of x's rank, no larger than x off `axis`, values in [0, x.shape[axis]). */
const alongCase = (withSrc: boolean) =>
  shapeArb(1, 3, 0, 3).chain((s0) =>
    axisArb(s0.length).chain((axis) => {
      const a = normAxis(axis, s0.length);
      const s = s0.map((d, i) => (i === a ? Math.max(1, d) : d));
      return fc.tuple(...s.map((d, i) => (i === a ? dim(0, 3) : dim(0, d)))).chain((ishape) =>
        fc
          .tuple(indicesArb(s[a]!, sizeOf(ishape)), fc.tuple(...ishape.map((d) => dim(d, d + 1))), layoutArb)
          .map(([index, srcShape, il]) => ({
            shapes: withSrc ? [s, srcShape] : [s],
            p: { axis, ishape, index, il },
          })),
      );
    }),
  );

/** Classification: scores [N, C] with targets [N] (or [C] with a 0-d target), and a reduction. */
const classCase = fc
  .record({
    n: dim(0, 3),
    c: dim(1, 4),
    single: fc.boolean(),
    reduction: fc.constantFrom('mean', 'sum', 'none'),
  })
  .chain(({ n, c, single, reduction }) => {
    // An empty batch has no mean (NaN, as in PyTorch), which central differences cannot check.
    const N = reduction === 'mean' ? Math.max(1, n) : n;
    return indicesArb(c, single ? 1 : N).map((target) => ({
      shapes: [single ? [c] : [N, c]],
      p: { target, single, reduction: reduction as core.Reduction },
    }));
  });

const reductionArb = fc.constantFrom<core.Reduction>('mean', 'sum', 'none');
const i32 = (data: readonly number[], shape?: readonly number[]) =>
  tensor([...data], { dtype: 'int32', ...(shape ? { shape } : {}) });

// ---- the table ------------------------------------------------------------------------------------------------

const unary = (name: string, fn: (x: Tensor) => Tensor, kinds: Kind = 'any') =>
  row({ name, cases: one, kinds, fn: ([x]) => fn(x!) });
const binary = (name: string, fn: (a: Tensor, b: Tensor) => Tensor, kinds: Kind[] = ['any', 'any']) =>
  row({ name, cases: pair, kinds, fn: ([a, b]) => fn(a!, b!) });

const ROWS: Row<unknown>[] = [
  // elementwise, broadcasting both ways, empty and size-1 dims
  binary('add', core.add),
  binary('sub', core.sub),
  binary('mul', core.mul),
  binary('div', core.div, ['any', 'away']),
  binary('pow', core.pow, ['pos', 'any']),
  binary('maximum', core.maximum, ['gridA', 'gridB']),
  binary('minimum', core.minimum, ['gridB', 'gridA']),
  binary('methods a.add(b).mul(b).sub(a).div(b)', (a, b) => a.add(b).mul(b).sub(a).div(b), ['any', 'away']),
  row({
    name: 'where (cond float64 or int32, broadcasting all three)',
    cases: broadcastShapesArb(3).chain(([c, a, b]) =>
      fc
        .tuple(fc.array(fc.boolean(), { minLength: sizeOf(c!), maxLength: sizeOf(c!) }), fc.boolean())
        .map(([cond, int]) => ({ shapes: [a!, b!], p: { cshape: c!, cond, int } })),
    ),
    fn: ([a, b], { cshape, cond, int }) =>
      core.where(
        tensor(
          cond.map((v) => (v ? 1 : 0)),
          { shape: cshape, dtype: int ? 'int32' : 'float64' },
        ),
        a!,
        b!,
      ),
  }),
  row({
    name: 'where with a scalar branch',
    cases: anyShape.chain((s) =>
      fc
        .tuple(fc.array(fc.boolean(), { minLength: sizeOf(s), maxLength: sizeOf(s) }), scalar, fc.boolean())
        .map(([cond, c, first]) => ({ shapes: [s], p: { cond, c, first } })),
    ),
    fn: ([x], { cond, c, first }) => {
      const m = tensor(
        cond.map((v) => (v ? 1 : 0)),
        { shape: x!.shape, dtype: 'float64' },
      );
      return first ? core.where(m, c, x!) : core.where(m, x!, c);
    },
  }),
  unary('neg', core.neg),
  unary('exp', core.exp),
  unary('log', core.log, 'pos'),
  unary('sqrt', core.sqrt, 'pos'),
  unary('abs', core.abs, 'away'),
  unary('tanh', core.tanh),
  unary('sigmoid', core.sigmoid),
  unary('relu', core.relu, 'away'),
  unary('square', core.square),
  unary('reciprocal', core.reciprocal, 'away'),
  unary('cos', core.cos),
  unary('sin', core.sin),
  unary('clamp(-0.5, 0.5)', (x) => core.clamp(x, -0.5, 0.5), 'clampSafe'),
  unary('clamp(min only)', (x) => core.clamp(x, -0.5), 'clampSafe'),
  unary('hardtanh default [-1, 1]', (x) => x.hardtanh(), 'clampSafe'),
  unary('hardtanh(-0.5, 0.5)', (x) => core.hardtanh(x, -0.5, 0.5), 'clampSafe'),
  unary('methods x.exp().tanh().sigmoid().neg().relu()', (x) => x.exp().tanh().sigmoid().neg().abs().relu()),
  row({
    name: 'scalar operands: add/sub/mul/div',
    cases: anyShape.chain((s) => scalar.map((c) => ({ shapes: [s], p: c }))),
    fn: ([x], c) => core.div(core.mul(core.sub(core.add(x!, c), 2 * c), c), c),
  }),
  row({
    name: 'pow with a scalar exponent (incl. the 2 and 1 shortcuts)',
    cases: anyShape.chain((s) =>
      fc.oneof(fc.constantFrom(0, 1, 2, 3, 0.5, -1.5), realIn(-2, 3)).map((e) => ({
        shapes: [s],
        p: e,
      })),
    ),
    kinds: 'pos',
    fn: ([x], e) => core.pow(x!, e),
  }),
  row({
    name: 'maximum/minimum with a scalar',
    cases: one,
    kinds: 'gridA',
    fn: ([x]) => core.minimum(core.maximum(x!, 0.01), 0.51),
  }),

  // matmul
  row({
    name: 'matmul 2-D (empty M, K, N allowed)',
    cases: matmulCase({ batch: false, trans: false }),
    fn: ([a, b]) => core.matmul(a!, b!),
  }),
  row({
    name: 'matmul batched, broadcast batch dims',
    cases: matmulCase({ batch: true, trans: false }),
    fn: ([a, b]) => a!.matmul(b!),
  }),
  row({
    name: 'matmul transA/transB (batched)',
    cases: matmulCase({ batch: true, trans: true }),
    fn: ([a, b], p) => core.matmul(a!, b!, p),
  }),
  row({ name: 'matmul 1-D promotion', cases: matmul1dCase, fn: ([a, b]) => core.matmul(a!, b!) }),

  // reductions
  row({ name: 'sum over axes, keepdim', cases: reduction(false), fn: ([x], p) => core.sum(x!, p.axes, p) }),
  row({ name: 'mean over axes, keepdim', cases: reduction(true), fn: ([x], p) => x!.mean(p.axes, p) }),
  row({
    name: 'max over axes, keepdim',
    cases: reduction(true),
    kinds: 'distinct',
    fn: ([x], p) => core.max(x!, p.axes, p),
  }),
  row({
    name: 'min over axes, keepdim',
    cases: reduction(true),
    kinds: 'distinct',
    fn: ([x], p) => x!.min(p.axes, p),
  }),
  row({
    name: 'max/min with exact ties share the gradient (x joined to itself)',
    cases: withAxis(1, 1).chain(({ s, axis }) =>
      fc.boolean().map((useMax) => ({ shapes: [s], p: { axis, useMax } })),
    ),
    kinds: 'distinct',
    // Every extreme appears twice: each copy gets half the gradient, so x's element still gets all of it.
    fn: ([x], { axis, useMax }) => (useMax ? core.max : core.min)(core.cat([x!, x!], axis), axis),
  }),
  row({
    name: 'argmax/argmin picked by gather (keepdim)',
    cases: withAxis(1, 1).chain(({ s, axis }) =>
      fc.boolean().map((useMax) => ({ shapes: [s], p: { axis, useMax } })),
    ),
    kinds: 'distinct',
    fn: ([x], { axis, useMax }) =>
      core.gather(
        x!,
        axis,
        useMax ? core.argmax(x!, axis, { keepdim: true }) : x!.argmin(axis, { keepdim: true }),
      ),
  }),
  row({
    name: 'argmax over the flattened tensor, picked by indexSelect',
    cases: noP(shapeArb(0, 3, 1).map((s) => [s])),
    kinds: 'distinct',
    fn: ([x]) => core.indexSelect(core.reshape(x!, [-1]), 0, core.reshape(core.argmax(x!), [1])),
  }),

  // softmax
  row({
    name: 'softmax any axis',
    cases: anyShape.chain((s) =>
      (s.length === 0 ? fc.constant(-1) : axisArb(s.length)).map((axis) => ({ shapes: [s], p: axis })),
    ),
    fn: ([x], axis) => core.softmax(x!, axis),
  }),
  // cumsum: the gradient is the reverse scan
  row({
    name: 'cumsum any axis',
    cases: anyShape.chain((s) =>
      (s.length === 0 ? fc.constant(-1) : axisArb(s.length)).map((axis) => ({ shapes: [s], p: axis })),
    ),
    fn: ([x], axis) => core.cumsum(x!, axis),
  }),
  // sort and topk: the values are gathered ('distinct' values keep the permutation under the differences)
  row({
    name: 'sort values any axis, both orders',
    cases: anyShape.chain((s) =>
      (s.length === 0 ? fc.constant(-1) : axisArb(s.length)).map((axis) => ({ shapes: [s], p: axis })),
    ),
    kinds: 'distinct',
    fn: ([x], axis) => core.sort(x!, axis, { descending: axis % 2 === 0 }).values,
  }),
  row({
    name: 'topk values, k = 2 on the last axis',
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 5 }))
      .map(([m, n]) => ({ shapes: [[m, n]], p: 2 })),
    kinds: 'distinct',
    fn: ([x], k) => core.topk(x!, k).values,
  }),
  row({
    name: 'logSoftmax any axis',
    cases: anyShape.chain((s) =>
      (s.length === 0 ? fc.constant(-1) : axisArb(s.length)).map((axis) => ({ shapes: [s], p: axis })),
    ),
    fn: ([x], axis) => x!.logSoftmax(axis),
  }),

  // shape ops
  row({
    name: 'reshape (incl. -1, non-contiguous inputs copy)',
    cases: reshapeCase,
    fn: ([x], t) => core.reshape(x!, t),
  }),
  row({ name: 'view', cases: reshapeCase, fn: ([x], t) => core.view(x!, t), denseOnly: true }),
  row({
    name: 'flatten(start, end)',
    cases: shapeArb(0, 3).chain(
      (s): fc.Arbitrary<Case<[number, number]>> =>
        s.length === 0
          ? fc.constant({ shapes: [s], p: [0, -1] })
          : fc
              .tuple(axisArb(s.length), axisArb(s.length))
              .filter(([a, b]) => normAxis(a, s.length) <= normAxis(b, s.length))
              .map((p) => ({ shapes: [s], p })),
    ),
    fn: ([x], [a, b]) => core.flatten(x!, a, b),
  }),
  row({
    name: 'squeeze (all, or one axis) and unsqueeze',
    cases: shapeArb(1, 3, 0, 2).chain((s) =>
      fc.option(axisArb(s.length)).chain((sq) => {
        // unsqueeze takes an axis of the squeezed tensor's rank + 1.
        const r =
          sq === null
            ? s.filter((d) => d !== 1).length
            : s.length - (s[normAxis(sq, s.length)] === 1 ? 1 : 0);
        return fc.integer({ min: -r - 1, max: r }).map((un) => ({ shapes: [s], p: { sq, un } }));
      }),
    ),
    fn: ([x], { sq, un }) => core.unsqueeze(sq === null ? x!.squeeze() : core.squeeze(x!, sq), un),
  }),
  row({
    name: 'transpose(a, b) and t()',
    cases: shapeArb(2, 3).chain((s) =>
      fc.tuple(axisArb(s.length), axisArb(s.length)).map((p) => ({ shapes: [s], p })),
    ),
    fn: ([x], [a, b]) => core.transpose(x!, a, b).t(),
  }),
  row({
    name: 'permute',
    cases: shapeArb(0, 3).chain((s) =>
      fc
        .shuffledSubarray(
          s.map((_, i) => i),
          { minLength: s.length, maxLength: s.length },
        )
        .map((order) => ({ shapes: [s], p: order })),
    ),
    fn: ([x], order) => x!.permute(order),
  }),
  row({
    name: 'expand (stretch 1s, -1, new leading dims)',
    cases: expandCase,
    fn: ([x], t) => core.expand(x!, t),
  }),
  row({
    name: 'narrow (negative start)',
    cases: withAxis(1).chain(({ s, axis }) => {
      const n = s[normAxis(axis, s.length)]!;
      return fc.integer({ min: 0, max: n }).chain((start) =>
        fc.tuple(fc.integer({ min: 0, max: n - start }), fc.boolean()).map(([len, neg]) => ({
          shapes: [s],
          p: { axis, start: neg && start < n ? start - n : start, len },
        })),
      );
    }),
    fn: ([x], { axis, start, len }) => core.narrow(x!, axis, start, len),
  }),
  row({
    name: 'slice (Python-style, clamped)',
    cases: withAxis(1).chain(({ s, axis }) =>
      fc
        .tuple(fc.integer({ min: -4, max: 4 }), fc.option(fc.integer({ min: -4, max: 4 })))
        .map(([start, end]) => ({ shapes: [s], p: { axis, start, end } })),
    ),
    fn: ([x], { axis, start, end }) => x!.slice(axis, start, end ?? undefined),
  }),
  row({
    name: 'select (negative index)',
    cases: withAxis(1, 1).chain(({ s, axis }) => {
      const n = s[normAxis(axis, s.length)]!;
      return fc.integer({ min: -n, max: n - 1 }).map((index) => ({ shapes: [s], p: { axis, index } }));
    }),
    fn: ([x], { axis, index }) => core.select(x!, axis, index),
  }),
  row({ name: 'cat (1-3 tensors, empty pieces)', cases: catCase, fn: (xs, axis) => core.cat(xs, axis) }),
  row({
    name: 'stack',
    cases: shapeArb(0, 2).chain((s) =>
      fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -s.length - 1, max: s.length }))
        .map(([k, axis]) => ({ shapes: Array.from({ length: k }, () => s), p: axis })),
    ),
    fn: (xs, axis) => core.stack(xs, axis),
  }),
  row({
    name: 'split (size, or list of sizes)',
    cases: withAxis(1).chain(({ s, axis }) => {
      const n = s[normAxis(axis, s.length)]!;
      return fc
        .oneof(fc.integer({ min: 1, max: 3 }), compositionArb(n))
        .map((sizes) => ({ shapes: [s], p: { sizes, axis } }));
    }),
    fn: ([x], { sizes, axis }) => core.split(x!, sizes, axis),
  }),
  row({
    name: 'chunk',
    cases: withAxis(1).chain(({ s, axis }) => dim(1, 4).map((k) => ({ shapes: [s], p: { k, axis } }))),
    fn: ([x], { k, axis }) => x!.chunk(k, axis),
  }),
  row({
    name: 'unbind',
    cases: withAxis(1).map(({ s, axis }) => ({ shapes: [s], p: axis })),
    fn: ([x], axis) => core.unbind(x!, axis),
  }),

  // indexing
  row({
    name: 'indexSelect (repeated indices, empty index)',
    cases: withAxis(1).chain(({ s, axis }) => {
      const a = normAxis(axis, s.length);
      const n = s[a]!;
      return (n === 0 ? fc.constant(0) : dim(0, 4)).chain((len) =>
        fc
          .tuple(indicesArb(n, len), layoutArb)
          .map(([index, il]) => ({ shapes: [s], p: { axis, index, il } })),
      );
    }),
    fn: ([x], { axis, index, il }) =>
      core.indexSelect(x!, axis, makeInput(index, [index.length], { dtype: 'int32', layout: il })),
  }),
  row({
    name: 'gather',
    cases: alongCase(false),
    fn: ([x], { axis, ishape, index, il }) =>
      core.gather(x!, axis, makeInput(index, ishape, { dtype: 'int32', layout: il })),
  }),
  row({
    name: 'scatterAdd (x and src; src may be larger than index)',
    cases: alongCase(true),
    fn: ([x, src], { axis, ishape, index, il }) =>
      core.scatterAdd(x!, axis, makeInput(index, ishape, { dtype: 'int32', layout: il }), src!),
  }),

  // copies
  row({ name: 'contiguous', cases: one, fn: ([x]) => core.contiguous(x!) }),
  row({ name: 'clone', cases: one, fn: ([x]) => x!.clone() }),
  row({ name: 'cast to float64 (same dtype)', cases: one, fn: ([x]) => core.cast(x!, 'float64') }),

  // losses
  row({
    name: 'nll',
    cases: classCase,
    fn: ([x], { target, single, reduction }) =>
      core.nll(x!, single ? i32(target, []) : i32(target), reduction),
  }),
  row({
    name: 'crossEntropy',
    cases: classCase,
    fn: ([x], { target, single, reduction }) =>
      core.crossEntropy(x!, single ? i32(target, []) : i32(target), reduction),
  }),
  row({
    name: 'mse (input and target)',
    cases: anyShape
      .chain((s) => reductionArb.map((r) => ({ shapes: [s, s], p: r })))
      .filter((c) => c.p !== 'mean' || sizeOf(c.shapes[0]!) > 0),
    fn: ([a, b], r) => core.mse(a!, b!, r),
  }),
  row({
    name: 'bce (input, target and a broadcast weight)',
    cases: broadcastShapesArb(2, 3, 1, 3).chain(([s, w]) =>
      fc.tuple(reductionArb, fc.boolean()).map(([r, weighted]) => {
        // Both shapes come from one broadcast set: the input takes the full shape, the weight broadcasts to it.
        const full = s!.length >= w!.length ? s! : w!;
        const weight = s!.length >= w!.length ? w! : s!;
        const wOk = weight.every((d, i) => d === 1 || d === full[full.length - weight.length + i]);
        return {
          shapes: weighted && wOk ? [full, full, weight] : [full, full],
          p: r,
        };
      }),
    ),
    kinds: ['prob', 'prob', 'pos'],
    fn: ([x, t, w], r) => core.bce(x!, t!, r, w),
  }),

  // composites and the fused cell
  row({
    name: 'lstmCell',
    cases: fc.tuple(dim(0, 2), dim(1, 3)).map(([n, h]) => ({
      shapes: [
        [n, 4 * h],
        [n, h],
      ],
      p: undefined,
    })),
    fn: ([g, c]) => core.lstmCell(g!, c!, 'ifog'),
  }),
];

// ---- the properties -------------------------------------------------------------------------------------------

const kindOf = (r: Row<unknown>, k: number): Kind =>
  r.kinds === undefined ? 'any' : typeof r.kinds === 'string' ? r.kinds : (r.kinds[k] ?? 'any');

const asList = (y: Tensor | readonly Tensor[]) => (Array.isArray(y) ? (y as Tensor[]) : [y as Tensor]);

describe('gradients of every op (gradcheck in float64, random shapes, values and layouts)', () => {
  for (const r of ROWS) {
    it(r.name, () => {
      const full = r.cases.chain((c) =>
        fc.record({
          c: fc.constant(c),
          values: fc.tuple(...c.shapes.map((s, k) => valuesArb(kindOf(r, k), sizeOf(s)))),
          layouts: r.denseOnly
            ? fc.constant(c.shapes.map((): Layout => 'contiguous'))
            : fc.tuple(...c.shapes.map(() => layoutArb)),
        }),
      );
      fc.assert(
        fc.property(full, ({ c, values, layouts }) => {
          tidy(() => {
            const xs = c.shapes.map((s, k) =>
              makeInput(values[k]!, s, { layout: layouts[k], requiresGrad: true }),
            );
            const fn = (...ys: Tensor[]) => r.fn(ys, c.p);
            expect(gradcheck(fn, xs, { atol: 1e-6, rtol: 1e-5 })).toBe(true);
            if (layouts.some((l) => l !== 'contiguous')) {
              // Same values on the strided views as on dense copies of them.
              const dense = xs.map((x) => x.clone());
              const got = noGrad(() => asList(fn(...xs)));
              const want = noGrad(() => asList(fn(...dense)));
              got.forEach((g, i) => {
                expect(g.shape).toEqual(want[i]!.shape);
                expect(mismatch(flat(g), flat(want[i]!), 1e-12)).toBeNull();
              });
            }
          });
        }),
        runs(r.numRuns ?? 100),
      );
    });
  }
});

describe('gradcheck itself', () => {
  it('catches a wrong gradient (so the table above can fail)', () => {
    const x = tensor([0.3, -0.7, 1.1], { dtype: 'float64', requiresGrad: true });
    // y + y^2 with the square detached: the tape sees a gradient of 1, finite differences 1 + 2y.
    const wrong = (y: Tensor) => core.add(y, core.mul(y.detach(), y.detach()));
    expect(gradcheck(wrong, [x], { raiseException: false })).toBe(false);
    expect(() => gradcheck(wrong, [x])).toThrow(
      /gradcheck: gradient mismatch at input 0 \(shape \[3\]\), element 0/,
    );
  });
});
