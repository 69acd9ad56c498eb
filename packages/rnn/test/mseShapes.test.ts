import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, nn, randn } from '@webrnn/rnn';

/** Torch's MSECriterion compares element by element: shapes that differ by size-1 dims are accepted here too. */
describe('MSECriterion with targets of another shape', () => {
  it('input [n, 1] with target [n] gives the loss and gradients of equal shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.boolean(), (n, sizeAverage) => {
        const x = randn([n, 1], { dtype: 'float64' });
        const t = randn([n], { dtype: 'float64' });
        const c = new nn.MSECriterion(sizeAverage);
        const loss = c.forward(x, t) as Tensor;
        const g = c.backward(x, t) as Tensor;
        const flat = x.reshape([n]);
        const same = new nn.MSECriterion(sizeAverage);
        const want = same.forward(flat, t) as Tensor;
        const wantG = same.backward(flat, t) as Tensor;
        expect(loss.itemSync()).toBeCloseTo(want.itemSync(), 12);
        expect(g.shape).toEqual([n, 1]);
        expect(Array.from(g.dataSync())).toEqual(Array.from(wantG.dataSync()));
      }),
      { numRuns: 20 },
    );
  });

  it('other shapes are refused, even with the same count ([2, 3] against [3, 2] is more likely a bug)', () => {
    const c = new nn.MSECriterion();
    expect(() => c.forward(randn([3, 1]), randn([4]))).toThrow(/shape \[3, 1\].*\[4\]/);
    expect(() => c.forward(randn([2, 3]), randn([3, 2]))).toThrow(/shape \[2, 3\].*\[3, 2\]/);
  });
});
