import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { F, type OpEntry, shapeArb, summed } from './differential/cases.js';
import { type Config, checkCase, drawnArb } from './differential/runner.js';
import { OP_TABLE } from './differential/table/index.js';

/**
 * The harness must catch what it is for: entries whose float32 run is subtly wrong (a relative error of 1e-4, a
 * missing term in a sum, a wrong gradient, a leak) are flagged, while the same entries done right pass the same
 * cases. CPU only (float32 against the float64 reference): the comparison, not a device, is under test.
 */
const CPU32: Config[] = [{ device: 'cpu', float: 'float32' }];
const cases = (entry: OpEntry, n = 25) => fc.sample(drawnArb(entry), { numRuns: n, seed: 42 });

async function flagged(entry: OpEntry): Promise<number> {
  let count = 0;
  for (const d of cases(entry)) if ((await checkCase(entry, d, CPU32)) !== null) count++;
  return count;
}

const matmul = OP_TABLE.find((e) => e.op === 'matmul')!;
const sum = OP_TABLE.find((e) => e.op === 'sum')!;
const tanh = OP_TABLE.find((e) => e.op === 'tanh')!;

describe('the differential harness catches wrong numbers', () => {
  it('the entries it is given pass as they are', async () => {
    for (const e of [matmul, sum, tanh]) expect(await flagged(e), e.op).toBe(0);
  });

  it('a forward off by 1e-4 relative in float32 is flagged', async () => {
    const wrong: OpEntry = {
      ...tanh,
      run: (xs, p, ctx) => {
        const y = tanh.run(xs, p, ctx) as core.Tensor;
        return ctx.float === 'float32' ? core.mul(y, 1 + 1e-4) : y;
      },
    };
    expect(await flagged(wrong)).toBeGreaterThan(15);
  });

  it('a matmul that drops the last term of each sum is flagged', async () => {
    const wrong: OpEntry = {
      op: 'matmul',
      gen: fc
        .record({ m: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 2, max: 40 }) })
        .map(({ m, k }) => ({ inputs: [F([m, k]), F([k, m])], params: { K: k } })),
      run: ([a, b], _p, ctx) => {
        if (ctx.float !== 'float32') return core.matmul(a!, b!);
        const k = a!.shape[1]!;
        return core.matmul(core.narrow(a!, 1, 0, k - 1), core.narrow(b!, 0, 0, k - 1));
      },
      tol: summed(40),
      shadow: true,
    };
    expect(await flagged(wrong)).toBeGreaterThan(20);
  });

  it('a wrong gradient (the forward right, the backward 1% off) is flagged', async () => {
    const wrong: OpEntry = {
      op: 'square',
      gen: shapeArb(1, 3, 1).map((s) => ({ inputs: [F(s)] })),
      run: ([x], _p, ctx) => {
        if (ctx.float !== 'float32') return core.square(x!);
        const y = core.noGrad(() => core.square(x!));
        return core.customOp('square', [x!], [y], ([g], [xs]) => [core.mul(g!, core.mul(xs!, 2.02))], [
          x!,
        ])[0];
      },
    };
    expect(await flagged(wrong)).toBeGreaterThan(15);
  });

  it('a run that leaks a tensor fails loudly', async () => {
    const leaky: OpEntry = {
      op: 'neg',
      gen: shapeArb(1, 2, 1).map((s) => ({ inputs: [F(s)] })),
      run: ([x]) => {
        core.keep(core.neg(x!));
        return core.neg(x!);
      },
    };
    const [d] = cases(leaky, 1);
    await expect(checkCase(leaky, d!, CPU32)).rejects.toThrow(/tensors were not disposed/);
  });
});
