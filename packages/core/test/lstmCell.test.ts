import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LstmGateOrder,
  type Tensor,
  add,
  gradcheck,
  lstmCell,
  manualSeed,
  mul,
  narrow,
  randn,
  sigmoid,
  sum,
  tanh,
} from '@webrnn/core';

const f64 = { dtype: 'float64' as const };
const ORDERS: LstmGateOrder[] = ['izfo', 'ifog', 'ifgo'];
const SLOT: Record<LstmGateOrder, string> = { izfo: 'izfo', ifog: 'ifoz', ifgo: 'ifzo' };

/** The cell written with separate ops: the reference the fused op must match. */
function composed(gates: Tensor, cPrev: Tensor, order: LstmGateOrder): [Tensor, Tensor] {
  const H = cPrev.shape[1]!;
  const gate = (name: string) => narrow(gates, 1, SLOT[order].indexOf(name) * H, H);
  const c = add(mul(sigmoid(gate('f')), cPrev), mul(sigmoid(gate('i')), tanh(gate('z'))));
  return [mul(sigmoid(gate('o')), tanh(c)), c];
}

describe('lstmCell (fused)', () => {
  it('equals the composed ops, forward and backward, for every gate order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(...ORDERS),
        (N, H, order) => {
          manualSeed(N * 10 + H);
          const gates = randn([N, 4 * H], f64).requiresGrad_();
          const cPrev = randn([N, H], f64).requiresGrad_();
          const rh = randn([N, H], f64);
          const rc = randn([N, H], f64);
          const [h1, c1] = lstmCell(gates, cPrev, order);
          const [h2, c2] = composed(gates, cPrev, order);
          Array.from(h1.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(h2.dataSync()[i]!, 12));
          Array.from(c1.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(c2.dataSync()[i]!, 12));
          add(sum(mul(h1, rh)), sum(mul(c1, rc))).backward();
          const g1 = [gates.grad!, cPrev.grad!].map((g) => Array.from(g.dataSync()));
          gates.zeroGrad();
          cPrev.zeroGrad();
          add(sum(mul(h2, rh)), sum(mul(c2, rc))).backward();
          const g2 = [gates.grad!, cPrev.grad!].map((g) => Array.from(g.dataSync()));
          g1.forEach((row, k) => row.forEach((v, i) => expect(v).toBeCloseTo(g2[k]![i]!, 12)));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('passes gradcheck, also when only h or only c is used', () => {
    manualSeed(3);
    const gates = randn([3, 8], f64).requiresGrad_();
    const cPrev = randn([3, 2], f64).requiresGrad_();
    expect(gradcheck((g, c) => lstmCell(g!, c!, 'izfo'), [gates, cPrev])).toBe(true);
    expect(gradcheck((g, c) => lstmCell(g!, c!, 'ifog')[0], [gates, cPrev])).toBe(true);
    expect(gradcheck((g, c) => lstmCell(g!, c!, 'ifgo')[1], [gates, cPrev])).toBe(true);
  });

  it('rejects bad shapes, dtypes and orders', () => {
    const g = randn([2, 8]);
    expect(() => lstmCell(g, randn([2, 3]))).toThrow(
      'lstmCell: expected gates [N, 4H] and cPrev [N, H], got gates [2, 8] and cPrev [2, 3]',
    );
    expect(() => lstmCell(g, randn([3, 2]))).toThrow(/got gates \[2, 8\] and cPrev \[3, 2\]/);
    expect(() => lstmCell(g, randn([2, 2], f64))).toThrow('lstmCell: dtype mismatch: float32 and float64');
    expect(() => lstmCell(g, randn([2, 2]), 'xxxx' as LstmGateOrder)).toThrow(/gate order must be/);
  });
});
