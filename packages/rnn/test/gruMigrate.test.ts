import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, narrow, nn, randn, tidy } from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { f64 } from './helpers/jacobian.js';

/**
 * GRU:migrate (Element-research): a plain GRU's 6 parameters, or Torch's BGRU layout of 9 (made here exactly as
 * ER's migrate makes it from the 6), loaded into a Bayesian GRU, which then computes the plain GRU in evaluation.
 */

/** ER's migrate: the 9 BGRU parameters from a GRU's 6 (r and z split out of i2g and o2g). */
function torchBgruParams(g: nn.GRU): Tensor[] {
  const [wi, bi, wo, wh, bh, uh] = g.parameters()[0] as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const H = g.outputSize;
  return [
    narrow(wi, 0, 0, H),
    narrow(bi, 0, 0, H),
    narrow(wi, 0, H, H),
    narrow(bi, 0, H, H),
    narrow(wo, 0, 0, H),
    narrow(wo, 0, H, H),
    wh,
    bh,
    uh,
  ].map((t) => t.clone());
}

describe('nn.GRU migrate', () => {
  it("loads a GRU's 6 parameters or Torch's BGRU 9 into a BGRU, which then equals the GRU in evaluation", () => {
    fc.assert(
      fc.property(
        fc.record({
          D: fc.integer({ min: 1, max: 4 }),
          H: fc.integer({ min: 1, max: 4 }),
          seed: fc.nat(1000),
        }),
        ({ D, H, seed }) => {
          tidy(() => {
            manualSeed(seed);
            const plain = new nn.GRU(D, H).double();
            const xs = [randn([2, D], f64), randn([2, D], f64), randn([2, D], f64)];
            plain.evaluate();
            const ys = xs.map((x) => plain.forward(x) as Tensor);
            for (const source of [plain.parameters()[0], torchBgruParams(plain)]) {
              const b = new nn.GRU(D, H, undefined, 0.25).double();
              expect(b.migrate(source)).toBe(b);
              b.parameters()[0].forEach((p, i) => close(p, plain.parameters()[0][i]!, `parameter ${i}`, 0));
              b.evaluate();
              xs.forEach((x, t) => close(b.forward(x) as Tensor, ys[t]!, `step ${t}`, 0));
              // In training the masks apply: the outputs differ.
              b.training().forget();
              expect(Array.from((b.forward(xs[0]!) as Tensor).dataSync())).not.toEqual(
                Array.from(ys[0]!.dataSync()),
              );
              b.dispose();
            }
            plain.dispose();
          });
        },
      ),
      { numRuns: 10 },
    );
  });

  it('refuses what ER refuses (a GRU without p, MuFuRu) and wrong parameter lists, leaking nothing', () => {
    const before = memory().tensors;
    const plain = new nn.GRU(3, 2);
    const b = new nn.GRU(3, 2, 9, 0.5);
    expect(() => plain.migrate(b.parameters()[0])).toThrow(
      'nn.GRU.migrate: only support for BGRUs (a GRU built with p > 0)',
    );
    expect(() => b.migrate(b.parameters()[0].slice(0, 5))).toThrow(
      'nn.GRU.migrate: expected the 6 parameters of a GRU (or the 9 of a BGRU), got 5',
    );
    const wrong = new nn.GRU(2, 2).parameters()[0];
    expect(() => b.migrate(wrong)).toThrow(
      'nn.GRU.migrate: source parameter 0 has shape [4, 2], expected [4, 3]',
    );
    const m = new nn.MuFuRu(3, 2);
    expect(() => m.migrate(wrong)).toThrow('nn.MuFuRu.migrate: Migrate not supported for MuFuRu');
    for (const x of [plain, b, m]) x.dispose();
    for (const t of wrong) t.dispose();
    expect(memory().tensors).toBe(before);
  });
});
