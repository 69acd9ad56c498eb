import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDUCE_MAX_RANK, reduceSpecOp, reduceValues } from '@webrnn/kernels';
import { type Layout, cpu, free, gpu, out, pair, params, same } from './helpers/backendPairs.js';

/**
 * Reductions of views whose dims cannot merge (every dim padded, in a shuffled storage order) with more separate
 * kept or reduced dims than the reduce kernel walks (REDUCE_MAX_RANK = 8): WebGPU must give the CPU's answer, as
 * for any other view (it once threw a bare "reduce walks at most 8 separate dims"). sum, max, min over random
 * axis sets (few, so that many dims are kept, or nearly all), argmax/argmin along one axis, float32 and int32.
 */
const caseArb = fc.integer({ min: REDUCE_MAX_RANK + 1, max: REDUCE_MAX_RANK + 2 }).chain((rank) =>
  fc.record({
    shape: fc.array(fc.integer({ min: 2, max: 3 }), { minLength: rank, maxLength: rank }),
    perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    pad: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: rank, maxLength: rank }),
    offset: fc.nat(3),
    // The reduced axes: a few (so more than 8 are kept) or all but a few (more than 8 reduced).
    few: fc.uniqueArray(fc.nat(rank - 1), { minLength: 0, maxLength: 2 }),
    most: fc.boolean(),
    argAxis: fc.nat(rank - 1),
  }),
);

describe.skipIf(!gpu)('WebGPU reductions past the kernel’s separate dims', () => {
  it('sum/max/min/argmax/argmin of rank 9-10 unmergeable views equal the CPU', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const rank = c.shape.length;
        const axes = c.most
          ? [...Array(rank).keys()].filter((d) => !c.few.includes(d))
          : c.few.length > 0
            ? c.few
            : [c.argAxis];
        const layout: Layout = { perm: c.perm, pad: c.pad, bcast: Array(rank).fill(false), offset: c.offset };
        for (const dtype of ['float32', 'int32'] as const) {
          const x = pair(dtype, c.shape, layout);
          const count = axes.reduce((n, d) => n * c.shape[d]!, 1);
          for (const op of ['sum', 'max', 'min'] as const) {
            const y = out(
              dtype,
              c.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
            );
            cpu.reduce(op, { x: x.cpu, out: y.cpu }, axes);
            gpu!.reduce(op, { x: x.gpu, out: y.gpu }, axes);
            // Values in [-2, 2]: a float32 sum's rounding grows with its length; int32 and max/min are exact.
            await same(
              `${op} ${dtype} over [${axes}] of ${JSON.stringify(c)}`,
              y,
              0,
              op === 'sum' && dtype === 'float32' ? 1e-5 * count : 0,
            );
            free(y);
          }
          for (const op of ['argmax', 'argmin'] as const) {
            const y = out(
              'int32',
              c.shape.map((d, i) => (i === c.argAxis ? 1 : d)),
            );
            cpu.reduce(op, { x: x.cpu, out: y.cpu }, [c.argAxis]);
            gpu!.reduce(op, { x: x.gpu, out: y.gpu }, [c.argAxis]);
            await same(`${op} ${dtype} along ${c.argAxis}`, y);
            free(y);
          }
          free(x);
        }
      }),
      params,
    );
  });
});

describe('reduceSpecOp', () => {
  it('gives max and min one kernel, argmax and argmin another (the direction is a uniform)', () => {
    expect(['sum', 'max', 'min', 'argmax', 'argmin'].map((op) => reduceSpecOp(op as 'sum'))).toEqual([
      'sum',
      'extreme',
      'extreme',
      'argextreme',
      'argextreme',
    ]);
  });
});

describe('reduceValues, the kernel’s launch values', () => {
  const dims = (n: number) => ({ shape: Array(n).fill(2), strides: Array(n).fill(1) });

  it('takes up to REDUCE_MAX_RANK separate dims on each side, padded to that length', () => {
    const v = reduceValues('sum', { offset: 0 }, 0, dims(REDUCE_MAX_RANK), dims(REDUCE_MAX_RANK));
    expect(v.keptRank).toBe(REDUCE_MAX_RANK);
    expect(v.redRank).toBe(REDUCE_MAX_RANK);
    expect(v.nOut).toBe(2 ** REDUCE_MAX_RANK);
    expect((v.keptShape as number[]).length).toBe(REDUCE_MAX_RANK);
  });

  it('refuses one dim more, on either side, instead of dropping it', () => {
    const over = REDUCE_MAX_RANK + 1;
    const msg = `reduce walks at most ${REDUCE_MAX_RANK} separate dims`;
    expect(() => reduceValues('sum', { offset: 0 }, 0, dims(over), dims(1))).toThrow(msg);
    expect(() => reduceValues('max', { offset: 0 }, 0, dims(1), dims(over))).toThrow(msg);
  });
});
