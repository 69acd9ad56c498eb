import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  add,
  affine,
  gradcheck,
  gruSequence,
  gt,
  manualSeed,
  matmul,
  memory,
  mul,
  narrow,
  rand,
  randn,
  select,
  sigmoid,
  stack,
  sum,
  tanh,
  tidy,
  vjp,
} from '@webrnn/core';
import { closeAbs } from './helpers/arb.js';

const f64 = { dtype: 'float64' as const };

/** Torch7's GRU written step by step with separate ops: the reference the sequence op must match. */
function stepwise(gx: Tensor, wh: Tensor, h0: Tensor, keep: Tensor | null): Tensor {
  const H = h0.shape[1]!;
  let h = h0;
  const outs: Tensor[] = [];
  for (let t = 0; t < gx.shape[0]!; t++) {
    const g = select(gx, 0, t);
    const r = sigmoid(add(narrow(g, 1, 0, H), matmul(h, narrow(wh, 1, 0, H))));
    const u = sigmoid(add(narrow(g, 1, H, H), matmul(h, narrow(wh, 1, H, H))));
    const hc = tanh(add(narrow(g, 1, 2 * H, H), matmul(mul(r, h), narrow(wh, 1, 2 * H, H))));
    h = add(mul(affine(u, -1, 1), hc), mul(u, h));
    if (keep) h = mul(h, select(keep, 0, t));
    outs.push(h);
  }
  return stack(outs);
}

describe('gruSequence', () => {
  it('equals the step-by-step ops in outputs and every gradient (with and without a mask)', () => {
    fc.assert(
      fc.property(
        fc.record({
          T: fc.integer({ min: 1, max: 4 }),
          N: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 1, max: 4 }),
          masked: fc.boolean(),
          seed: fc.nat(1000),
        }),
        ({ T, N, H, masked, seed }) => {
          tidy(() => {
            manualSeed(seed);
            const gx = randn([T, N, 3 * H], f64).requiresGrad_();
            const wh = randn([H, 3 * H], f64).requiresGrad_();
            const h0 = randn([N, H], f64).requiresGrad_();
            const keep = masked ? gt(rand([T, N, 1], f64), 0.3).cast('float64') : null;
            const y1 = gruSequence(gx, wh, h0, { keep });
            const y2 = stepwise(gx, wh, h0, keep);
            closeAbs(y1, y2, 'output', 1e-10);
            const gy = randn(y1.shape, f64);
            const g1 = vjp([y1], [gy], [gx, wh, h0]);
            const g2 = vjp([y2], [gy], [gx, wh, h0]);
            g1.forEach((g, i) => closeAbs(g!, g2[i]!, `gradient ${i}`, 1e-10));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('passes gradcheck', () => {
    manualSeed(7);
    const ins = [randn([3, 2, 6], f64), randn([2, 6], f64), randn([2, 2], f64)].map((t) => t.requiresGrad_());
    expect(gradcheck((gx, wh, h0) => gruSequence(gx!, wh!, h0!), ins)).toBe(true);
  });

  it('leaves no tensors behind after forward and backward', () => {
    manualSeed(1);
    const wh = randn([3, 9]).requiresGrad_();
    const before = memory().tensors;
    tidy(() => sum(gruSequence(randn([5, 2, 9]).requiresGrad_(), wh, randn([2, 3]))).backward());
    wh.grad!.dispose();
    wh.grad = null;
    expect(memory().tensors).toBe(before);
  });

  it('rejects bad shapes, naming every operand', () => {
    expect(() => gruSequence(randn([2, 3, 6]), randn([2, 6]), randn([3, 3]))).toThrow(
      'gruSequence: expected gx [T, N, 3H] (T >= 1), wh [H, 3H], h0 [N, H]; got gx [2, 3, 6], wh [2, 6], h0 [3, 3]',
    );
  });
});
