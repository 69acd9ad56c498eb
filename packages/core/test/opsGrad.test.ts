import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, gradcheck, tensor } from '@webrnn/core';

/**
 * One table of ops, and a property test per row: random shapes (broadcasting pairs, size-1 and empty dims where
 * legal) and random values, the tape's gradients checked against float64 central differences by gradcheck.
 */

type Domain = 'any' | 'positive' | 'awayFromZero' | 'distinct';

interface Row {
  readonly name: string;
  /** Shapes of the inputs. */
  readonly shapes: fc.Arbitrary<number[][]>;
  readonly domain?: Domain;
  readonly fn: (...xs: Tensor[]) => Tensor | Tensor[];
  /** Also run on a transposed (non-contiguous) view of the first input. */
  readonly strided?: boolean;
}

const dim = (min = 1, max = 3) => fc.integer({ min, max });
const shape = (rank: number, min = 1) => fc.array(dim(min), { minLength: rank, maxLength: rank });
const anyShape = fc.integer({ min: 0, max: 3 }).chain((r) => shape(r));
const same = (n: number) => anyShape.map((s) => Array.from({ length: n }, () => s));
/** Two shapes that broadcast: the second drops leading dims and sets some dims to 1. */
const broadcastPair = fc
  .tuple(shape(3, 0), fc.integer({ min: 0, max: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
  .map(([s, drop, ones]) => [s, s.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))]);
const matrix = shape(2);
const rank2plus = fc.integer({ min: 2, max: 3 }).chain((r) => shape(r));

const unary = (name: string, fn: (x: Tensor) => Tensor, domain: Domain = 'any'): Row => ({
  name,
  shapes: same(1),
  domain,
  fn,
  strided: true,
});
const binary = (name: string, fn: (a: Tensor, b: Tensor) => Tensor, domain: Domain = 'any'): Row => ({
  name,
  shapes: broadcastPair,
  domain,
  fn,
});

const ROWS: Row[] = [
  binary('add', core.add),
  binary('sub', core.sub),
  binary('mul', core.mul),
  binary('div', core.div, 'awayFromZero'),
  binary('pow', core.pow, 'positive'),
  binary('maximum', core.maximum, 'distinct'),
  binary('minimum', core.minimum, 'distinct'),
  unary('neg', core.neg),
  unary('exp', core.exp),
  unary('log', core.log, 'positive'),
  unary('sqrt', core.sqrt, 'positive'),
  unary('abs', core.abs, 'awayFromZero'),
  unary('tanh', core.tanh),
  unary('sigmoid', core.sigmoid),
  unary('relu', core.relu, 'awayFromZero'),
  unary('square', core.square),
  unary('reciprocal', core.reciprocal, 'awayFromZero'),
  unary('scalar ops', (x) => core.sub(core.div(core.mul(core.add(x, 2), 3), 4), 1)),
  unary('pow scalar', (x) => core.pow(x, 3)),
  unary('clamp', (x) => core.clamp(x, -0.5, 0.5), 'awayFromZero'),
  unary('hardtanh', (x) => core.hardtanh(x, -0.5, 0.5), 'awayFromZero'),
  {
    name: 'where',
    shapes: broadcastPair.map(([a, b]) => [a!, b!, a!]),
    fn: (a, b, c) => core.where(core.gt(c!, 0), a!, b!),
  },
  {
    name: 'matmul',
    shapes: fc.tuple(dim(), dim(), dim()).map(([m, k, n]) => [
      [m, k],
      [k, n],
    ]),
    fn: (a, b) => core.matmul(a!, b!),
  },
  {
    name: 'matmul batched transposed',
    shapes: fc.tuple(dim(), dim(), dim(), dim()).map(([bt, m, k, n]) => [
      [bt, k, m],
      [n, k],
    ]),
    fn: (a, b) => core.matmul(a!, b!, { transA: true, transB: true }),
  },
  {
    name: 'matmul 1-D',
    shapes: fc.tuple(dim(), dim()).map(([k, n]) => [[k], [k, n]]),
    fn: (a, b) => core.matmul(a!, b!),
  },
  { name: 'sum all', shapes: same(1), fn: (x) => core.sum(x!), strided: true },
  {
    name: 'sum axis keepdim',
    shapes: rank2plus.map((s) => [s]),
    fn: (x) => core.sum(x!, -1, { keepdim: true }),
  },
  { name: 'mean axes', shapes: rank2plus.map((s) => [s]), fn: (x) => core.mean(x!, [0, 1]), strided: true },
  { name: 'max axis', shapes: rank2plus.map((s) => [s]), domain: 'distinct', fn: (x) => core.max(x!, 0) },
  { name: 'min all', shapes: rank2plus.map((s) => [s]), domain: 'distinct', fn: (x) => core.min(x!) },
  { name: 'softmax', shapes: rank2plus.map((s) => [s]), fn: (x) => core.softmax(x!, -1), strided: true },
  { name: 'logSoftmax axis 0', shapes: rank2plus.map((s) => [s]), fn: (x) => core.logSoftmax(x!, 0) },
  { name: 'reshape', shapes: matrix.map((s) => [s]), fn: (x) => core.reshape(x!, [-1]), strided: true },
  { name: 'view/flatten', shapes: rank2plus.map((s) => [s]), fn: (x) => core.flatten(x!, 1) },
  { name: 'squeeze/unsqueeze', shapes: same(1), fn: (x) => core.squeeze(core.unsqueeze(x!, 0)) },
  { name: 'permute', shapes: shape(3).map((s) => [s]), fn: (x) => core.permute(x!, [2, 0, 1]) },
  { name: 'transpose/t', shapes: matrix.map((s) => [s]), fn: (x) => core.mul(x!.t(), 1) },
  { name: 'expand', shapes: shape(2).map(([a]) => [[a!, 1]]), fn: (x) => core.expand(x!, [-1, 3]) },
  { name: 'narrow', shapes: matrix.map((s) => [s]), fn: (x) => core.narrow(x!, 1, 0, 1), strided: true },
  { name: 'slice', shapes: matrix.map((s) => [s]), fn: (x) => core.slice(x!, 0, -1) },
  { name: 'select', shapes: matrix.map((s) => [s]), fn: (x) => core.select(x!, 1, -1) },
  {
    name: 'cat',
    shapes: matrix.map(([a, b]) => [
      [a!, b!],
      [a!, 2],
    ]),
    fn: (a, b) => core.cat([a!, b!], 1),
  },
  { name: 'stack', shapes: same(2), fn: (a, b) => core.stack([a!, b!], 0) },
  { name: 'split', shapes: fc.tuple(dim(2, 4), dim()).map((s) => [s]), fn: (x) => core.split(x!, 1, 0) },
  { name: 'chunk', shapes: fc.tuple(dim(2, 4), dim()).map((s) => [s]), fn: (x) => core.chunk(x!, 2, 0) },
  { name: 'unbind', shapes: matrix.map((s) => [s]), fn: (x) => core.unbind(x!, 1) },
  {
    name: 'indexSelect (repeated indices)',
    shapes: matrix.map((s) => [s]),
    fn: (x) => core.indexSelect(x!, 0, tensor([0, x!.shape[0]! - 1, 0], { dtype: 'int32' })),
  },
  {
    name: 'gather',
    shapes: matrix.map((s) => [s]),
    fn: (x) => core.gather(x!, 1, core.zeros([x!.shape[0]!, 2], { dtype: 'int32' })),
  },
  {
    name: 'scatterAdd',
    shapes: matrix.map(([a, b]) => [
      [a!, b!],
      [a!, 2],
    ]),
    fn: (x, s) => core.scatterAdd(x!, 1, core.zeros([x!.shape[0]!, 2], { dtype: 'int32' }), s!),
  },
  {
    name: 'contiguous/clone',
    shapes: matrix.map((s) => [s]),
    fn: (x) => core.clone(core.contiguous(x!.t())),
  },
  {
    name: 'nll',
    shapes: matrix.map(([n, c]) => [[n!, c!]]),
    fn: (x) => core.nll(core.logSoftmax(x!), core.zeros([x!.shape[0]!], { dtype: 'int32' })),
  },
  {
    name: 'crossEntropy sum',
    shapes: matrix.map((s) => [s]),
    fn: (x) => core.crossEntropy(x!, core.full([x!.shape[0]!], x!.shape[1]! - 1, { dtype: 'int32' }), 'sum'),
  },
  { name: 'mse', shapes: same(2), fn: (a, b) => core.mse(a!, b!) },
  {
    name: 'bce',
    shapes: same(2),
    domain: 'positive',
    fn: (a, b) => core.bce(core.sigmoid(a!), core.sigmoid(b!)),
  },
  {
    name: 'lstmCell',
    shapes: fc.tuple(dim(), dim()).map(([n, h]) => [
      [n, 4 * h],
      [n, h],
    ]),
    fn: (g, c) => core.lstmCell(g!, c!, 'ifog'),
  },
];

/** Values for an input of `shape` in `domain` (distinct values keep max/min/abs away from ties and kinks). */
function values(shape: number[], domain: Domain, seed: number): number[] {
  const g = new core.Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => {
    const u = g.next();
    switch (domain) {
      case 'positive':
        return 0.3 + 1.5 * u;
      case 'awayFromZero':
        return (u < 0.5 ? -1 : 1) * (0.6 + u);
      case 'distinct':
        return (i - n / 2) * 0.37 + 0.1 * u;
      default:
        return 4 * u - 2;
    }
  });
}

describe('gradients of every op (gradcheck in float64, random shapes)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      fc.assert(
        fc.property(
          row.shapes,
          fc.integer({ min: 1, max: 1e6 }),
          fc.boolean(),
          (shapes, seed, transposed) => {
            const inputs = shapes.map((s, k) => {
              const useT = row.strided && transposed && k === 0 && s.length === 2;
              const base = tensor(values(useT ? [s[1]!, s[0]!] : s, row.domain ?? 'any', seed + k), {
                shape: useT ? [s[1]!, s[0]!] : s,
                dtype: 'float64',
              });
              // A transposed view: the op must handle strides (the gradient still flows to the leaf).
              return useT ? base.t().requiresGrad_() : base.requiresGrad_();
            });
            expect(gradcheck((...xs) => row.fn(...xs), inputs, { atol: 1e-6, rtol: 1e-4 })).toBe(true);
          },
        ),
        { numRuns: 12 },
      );
    });
  }
});
