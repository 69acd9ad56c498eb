import fc from 'fast-check';
import * as core from '@webrnn/core';
import {
  EXACT,
  F,
  I,
  type InputSpec,
  type OpEntry,
  axisArb,
  norm,
  shapeArb,
  sizeOf,
  smallDim,
  summed,
} from '../cases.js';

/** Shape ops, joins and index ops: their forward moves values exactly. */

const floatOrInt = (shape: readonly number[], int: boolean): InputSpec => (int ? I(shape) : F(shape));
const anyInput = (minRank = 0, maxRank = 4) =>
  fc.record({ shape: shapeArb(minRank, maxRank), int: fc.boolean() });

/** A shape with the same number of elements: regrouped dims, sometimes with one -1. */
const reshapeTarget = (shape: readonly number[]) => {
  const n = sizeOf(shape);
  const divisors = Array.from({ length: Math.min(n, 64) }, (_, i) => i + 1).filter((d) => n % d === 0);
  return fc
    .tuple(fc.constantFrom(...(divisors.length ? divisors : [1])), fc.boolean(), fc.boolean())
    .map(([d, infer, swap]) => {
      if (n === 0) return swap ? [0, ...shape.slice(1)] : [...shape].reverse();
      const t = swap ? [n / d, d] : [d, n / d];
      if (infer) t[Number(swap)] = -1;
      return t;
    });
};

export const SHAPE: OpEntry[] = [
  {
    op: 'reshape',
    gen: anyInput().chain(({ shape, int }) =>
      reshapeTarget(shape).map((t) => ({ inputs: [floatOrInt(shape, int)], params: t })),
    ),
    run: ([x], t) => core.reshape(x!, t),
  },
  {
    op: 'view',
    gen: anyInput().chain(({ shape, int }) =>
      reshapeTarget(shape).map((t) => ({ inputs: [floatOrInt(shape, int)], params: t })),
    ),
    run: ([x], t) => core.view(x!, t),
  },
  {
    op: 'flatten',
    gen: anyInput(1).chain(({ shape, int }) =>
      fc
        .tuple(axisArb(shape.length), axisArb(shape.length))
        .map((ax) => ({ inputs: [floatOrInt(shape, int)], params: ax })),
    ),
    run: ([x], [s, e]) => core.flatten(x!, s, e),
  },
  {
    op: 'squeeze',
    gen: anyInput().chain(({ shape, int }) =>
      (shape.length ? fc.option(axisArb(shape.length)) : fc.constant(null)).map((a) => ({
        inputs: [floatOrInt(shape, int)],
        params: a,
      })),
    ),
    run: ([x], a) => core.squeeze(x!, a ?? undefined),
  },
  {
    op: 'unsqueeze',
    gen: anyInput(0, 3).chain(({ shape, int }) =>
      axisArb(shape.length + 1).map((a) => ({ inputs: [floatOrInt(shape, int)], params: a })),
    ),
    run: ([x], a) => core.unsqueeze(x!, a),
  },
  {
    op: 'permute',
    gen: anyInput().chain(({ shape, int }) =>
      fc
        .shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        )
        .map((order) => ({ inputs: [floatOrInt(shape, int)], params: order })),
    ),
    run: ([x], order) => core.permute(x!, order),
  },
  {
    op: 'transpose',
    gen: anyInput(2).chain(({ shape, int }) =>
      fc
        .tuple(axisArb(shape.length), axisArb(shape.length))
        .map((ax) => ({ inputs: [floatOrInt(shape, int)], params: ax })),
    ),
    run: ([x], [a, b]) => core.transpose(x!, a, b),
  },
  {
    op: 'expand',
    gen: anyInput(0, 3).chain(({ shape, int }) =>
      fc
        .tuple(
          fc.array(smallDim, { minLength: 0, maxLength: 1 }),
          fc.array(smallDim, { minLength: shape.length, maxLength: shape.length }),
          fc.boolean(),
        )
        .map(([lead, sizes, keep]) => ({
          inputs: [floatOrInt(shape, int)],
          params: [...lead, ...shape.map((d, i) => (d === 1 ? sizes[i]! : keep ? -1 : d))],
        })),
    ),
    run: ([x], s) => core.expand(x!, s),
  },
  {
    op: 'narrow',
    gen: anyInput(1).chain(({ shape, int }) =>
      axisArb(shape.length).chain((a) => {
        const n = shape[norm(a, shape.length)]!;
        return fc
          .integer({ min: 0, max: n })
          .chain((start) =>
            fc
              .integer({ min: 0, max: n - start })
              .map((len) => ({ inputs: [floatOrInt(shape, int)], params: [a, start, len] })),
          );
      }),
    ),
    run: ([x], [a, s, l]) => core.narrow(x!, a, s, l),
  },
  {
    op: 'slice',
    gen: anyInput(1).chain(({ shape, int }) =>
      fc
        .tuple(
          axisArb(shape.length),
          fc.integer({ min: -6, max: 6 }),
          fc.option(fc.integer({ min: -6, max: 6 })),
        )
        .map((p) => ({ inputs: [floatOrInt(shape, int)], params: p })),
    ),
    run: ([x], [a, s, e]) => core.slice(x!, a, s, e ?? undefined),
  },
  {
    op: 'select',
    gen: anyInput(1)
      .filter(({ shape }) => shape.every((d) => d > 0))
      .chain(({ shape, int }) =>
        axisArb(shape.length).chain((a) => {
          const n = shape[norm(a, shape.length)]!;
          return fc
            .integer({ min: -n, max: n - 1 })
            .map((i) => ({ inputs: [floatOrInt(shape, int)], params: [a, i] }));
        }),
      ),
    run: ([x], [a, i]) => core.select(x!, a, i),
  },
  ...(['contiguous', 'clone'] as const).map(
    (op): OpEntry => ({
      op,
      gen: anyInput().map(({ shape, int }) => ({ inputs: [floatOrInt(shape, int)] })),
      run: ([x]) => core[op](x!),
    }),
  ),
  {
    op: 'cast',
    gen: anyInput().map(({ shape, int }) => ({ inputs: [floatOrInt(shape, int)], params: !int })),
    // Floats go to int32 (grid values are exact in both), ints to the run's float dtype.
    run: ([x], toInt, ctx) => core.cast(x!, toInt ? 'int32' : ctx.float),
  },
];

/** Shapes that agree except along `axis`: what cat takes. */
const catArb = (extra: number) =>
  fc
    .record({ shape: shapeArb(1, 3), int: fc.boolean(), k: fc.integer({ min: 1, max: 3 }) })
    .chain(({ shape, int, k }) =>
      axisArb(shape.length + extra).chain((axis) =>
        fc.array(smallDim, { minLength: k, maxLength: k }).map((sizes) => ({
          shape,
          int,
          axis,
          shapes: sizes.map((d) =>
            extra ? [...shape] : shape.map((s, i) => (i === norm(axis, shape.length) ? d : s)),
          ),
        })),
      ),
    );

export const JOIN: OpEntry[] = [
  {
    op: 'cat',
    gen: catArb(0).map(({ shapes, int, axis }) => ({
      inputs: shapes.map((s) => floatOrInt(s, int)),
      params: axis,
    })),
    run: (xs, axis) => core.cat(xs, axis),
  },
  {
    op: 'stack',
    gen: catArb(1).map(({ shapes, int, axis }) => ({
      inputs: shapes.map((s) => floatOrInt(s, int)),
      params: axis,
    })),
    run: (xs, axis) => core.stack(xs, axis),
  },
  {
    op: 'split',
    gen: anyInput(1).chain(({ shape, int }) =>
      fc
        .tuple(axisArb(shape.length), fc.integer({ min: 1, max: 4 }))
        .map(([axis, size]) => ({ inputs: [floatOrInt(shape, int)], params: [size, axis] })),
    ),
    run: ([x], [size, axis]) => core.split(x!, size, axis),
  },
  {
    op: 'chunk',
    gen: anyInput(1).chain(({ shape, int }) =>
      fc
        .tuple(axisArb(shape.length), fc.integer({ min: 1, max: 4 }))
        .map(([axis, n]) => ({ inputs: [floatOrInt(shape, int)], params: [n, axis] })),
    ),
    run: ([x], [n, axis]) => core.chunk(x!, n, axis),
  },
  {
    op: 'unbind',
    gen: anyInput(1, 3).chain(({ shape, int }) =>
      axisArb(shape.length).map((axis) => ({ inputs: [floatOrInt(shape, int)], params: axis })),
    ),
    run: ([x], axis) => core.unbind(x!, axis),
  },
];

/**
 * An input, an axis and an index of the same rank for gather/scatterAdd: no larger than the input off the axis, any
 * length along it, values in [0, n); `extra` grows scatterAdd's src past the index.
 */
const alongAxis = anyInput(1, 3).chain(({ shape, int }) =>
  fc
    .tuple(
      axisArb(shape.length),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 4, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }),
    )
    .map(([axis, sizes, extra]) => {
      const a = norm(axis, shape.length);
      const n = shape[a]!;
      const idx = shape.map((d, i) => (i === a ? (n === 0 ? 0 : sizes[i]!) : Math.min(d, sizes[i]!)));
      return { x: floatOrInt(shape, int), axis, index: I(idx, { index: n }), extra };
    }),
);

export const INDEX: OpEntry[] = [
  {
    op: 'indexSelect',
    gen: anyInput(1, 3).chain(({ shape, int }) =>
      fc.tuple(axisArb(shape.length), fc.integer({ min: 0, max: 7 })).map(([axis, k]) => {
        const n = shape[norm(axis, shape.length)]!;
        return { inputs: [floatOrInt(shape, int), I([n === 0 ? 0 : k], { index: n })], params: axis };
      }),
    ),
    run: ([x, idx], axis) => core.indexSelect(x!, axis, idx!),
  },
  {
    op: 'gather',
    gen: alongAxis.map(({ x, axis, index }) => ({ inputs: [x, index], params: axis })),
    run: ([x, idx], axis) => core.gather(x!, axis, idx!),
  },
  {
    op: 'scatterAdd',
    // src may be larger than the index (only its leading part is read).
    gen: alongAxis.map(({ x, axis, index, extra }) => ({
      inputs: [x, index, { ...x, shape: index.shape.map((d, i) => d + (extra[i] ?? 0)) }],
      params: axis,
    })),
    run: ([x, idx, src], axis) => core.scatterAdd(x!, axis, idx!, src!),
    // Repeated indices add up in an order each device chooses.
    tol: summed(8),
  },
];

export const STRUCTURE: OpEntry[] = [...SHAPE, ...JOIN, ...INDEX].map((e) => ({ tol: EXACT, ...e }));
