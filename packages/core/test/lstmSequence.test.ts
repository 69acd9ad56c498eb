import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LstmGateOrder,
  type Tensor,
  add,
  gradcheck,
  gt,
  lstmCell,
  lstmSequence,
  manualSeed,
  matmul,
  memory,
  mul,
  rand,
  randn,
  select,
  stack,
  sum,
  tidy,
  vjp,
} from '@webrnn/core';
import { closeAbs } from './helpers/arb.js';

const f64 = { dtype: 'float64' as const };

/** The layer written step by step with separate ops: the reference the sequence op must match. */
function stepwise(
  gx: Tensor,
  wh: Tensor,
  h0: Tensor,
  c0: Tensor,
  order: LstmGateOrder,
  keep: Tensor | null,
  wo: Tensor | null,
): [Tensor, Tensor] {
  let h = h0;
  let c = c0;
  const outs: Tensor[] = [];
  const cells: Tensor[] = [];
  for (let t = 0; t < gx.shape[0]!; t++) {
    let [hn, cn] = lstmCell(add(select(gx, 0, t), matmul(h, wh)), c, order);
    if (keep) {
      hn = mul(hn, select(keep, 0, t));
      cn = mul(cn, select(keep, 0, t));
    }
    h = wo ? matmul(hn, wo) : hn;
    c = cn;
    outs.push(h);
    cells.push(c);
  }
  return [stack(outs), stack(cells)];
}

describe('lstmSequence', () => {
  it('equals the step-by-step ops in outputs and every gradient (gate orders, masks, projection)', () => {
    fc.assert(
      fc.property(
        fc.record({
          T: fc.integer({ min: 1, max: 4 }),
          N: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 1, max: 4 }),
          R: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
          order: fc.constantFrom<LstmGateOrder>('izfo', 'ifog', 'ifgo'),
          masked: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        ({ T, N, H, R, order, masked, seed }) => {
          tidy(() => {
            manualSeed(seed);
            const r = R ?? H;
            const gx = randn([T, N, 4 * H], f64).requiresGrad_();
            const wh = randn([r, 4 * H], f64).requiresGrad_();
            const h0 = randn([N, r], f64).requiresGrad_();
            const c0 = randn([N, H], f64).requiresGrad_();
            const wo = R === null ? null : randn([H, R], f64).requiresGrad_();
            const keep = masked ? gt(rand([T, N, 1], f64), 0.3).cast('float64') : null;
            const ins = [gx, wh, h0, c0, ...(wo ? [wo] : [])];
            const [y1, c1] = lstmSequence(gx, wh, h0, c0, { order, keep, projection: wo });
            const [y2, c2] = stepwise(gx, wh, h0, c0, order, keep, wo);
            closeAbs(y1, y2, 'output', 1e-10);
            closeAbs(c1, c2, 'cells', 1e-10);
            const gy = randn(y1.shape, f64);
            const gc = randn(c1.shape, f64);
            const g1 = vjp([y1, c1], [gy, gc], ins);
            const g2 = vjp([y2, c2], [gy, gc], ins);
            g1.forEach((g, i) => closeAbs(g!, g2[i]!, `gradient ${i}`, 1e-10));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('passes gradcheck, with a projection and a mask', () => {
    manualSeed(7);
    const [T, N, H, R] = [3, 2, 2, 3];
    const keep = gt(rand([T, N, 1], f64), 0.3).cast('float64');
    const ins = [
      randn([T, N, 4 * H], f64),
      randn([R, 4 * H], f64),
      randn([N, R], f64),
      randn([N, H], f64),
      randn([H, R], f64),
    ].map((t) => t.requiresGrad_());
    expect(
      gradcheck((gx, wh, h0, c0, wo) => lstmSequence(gx!, wh!, h0!, c0!, { keep, projection: wo! }), ins),
    ).toBe(true);
    const plain = [randn([T, N, 4 * H], f64), randn([H, 4 * H], f64), randn([N, H], f64), randn([N, H], f64)];
    for (const t of plain) t.requiresGrad_();
    expect(gradcheck((gx, wh, h0, c0) => lstmSequence(gx!, wh!, h0!, c0!)[0], plain)).toBe(true);
  });

  it('leaves no tensors behind after forward and backward', () => {
    manualSeed(1);
    const wh = randn([3, 12]).requiresGrad_();
    const before = memory().tensors;
    tidy(() => {
      const gx = randn([5, 2, 12]).requiresGrad_();
      const [y, c] = lstmSequence(gx, wh, randn([2, 3]), randn([2, 3]));
      add(sum(y), sum(c)).backward();
    });
    wh.grad!.dispose();
    wh.grad = null;
    expect(memory().tensors).toBe(before);
  });

  it('rejects bad shapes, naming every operand', () => {
    const gx = randn([2, 3, 8]);
    expect(() => lstmSequence(gx, randn([2, 8]), randn([3, 2]), randn([3, 3]))).toThrow(
      'lstmSequence: expected gx [T, N, 4H] (T >= 1), wh [R, 4H], h0 [N, R], c0 [N, H]; got gx [2, 3, 8], wh [2, 8], h0 [3, 2], c0 [3, 3]',
    );
    expect(() =>
      lstmSequence(gx, randn([2, 8]), randn([3, 2]), randn([3, 2]), { keep: randn([2, 3]) }),
    ).toThrow(/keep \[T, N, 1\]; got .* keep \[2, 3\]/);
    expect(() => lstmSequence(gx, randn([2, 8], f64), randn([3, 2]), randn([3, 2]))).toThrow(
      'lstmSequence: dtype mismatch',
    );
  });
});
