import { describe, expect, it } from 'vitest';
import { mul, tanh, tensor, tidy, vjp, vjpObserving } from '../src/index.js';

/**
 * vjpObserving with leaves: an input observed (once or twice) reports its own gradient at every place, and an input
 * listed twice that no gradient reaches is null at both places (tapeProperties.test.ts covers observed intermediates).
 */
const f64 = { dtype: 'float64' as const };
const arr = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync());
const leaf = (v: number[]) => tensor(Float64Array.from(v), { ...f64, requiresGrad: true });

describe('observing leaves', () => {
  it('an input observed twice has its gradient at both observed places', () => {
    tidy(() => {
      const x = leaf([0.5, -1, 2]);
      const y = mul(tanh(x), 3);
      const seed = tensor(Float64Array.from([1, 2, 3]), f64);
      const { inputs, observed } = vjpObserving([y], [seed], [x], [x, x]);
      const g = arr(inputs[0]!);
      // d/dx sum(seed * 3 tanh(x)) = 3 seed (1 - tanh(x)^2)
      g.forEach((v, i) => expect(v).toBeCloseTo(3 * (i + 1) * (1 - Math.tanh([0.5, -1, 2][i]!) ** 2), 12));
      expect(observed.map((o) => (o ? arr(o) : null))).toEqual([g, g]);
    });
  });

  it('an input listed twice that no gradient reaches is null at both places', () => {
    tidy(() => {
      const x = leaf([1, 2]);
      const z = leaf([3, 4]);
      const seed = tensor(Float64Array.from([1, 1]), f64);
      expect(vjp([mul(x, 2)], [seed], [z, z])).toEqual([null, null]);
      const { inputs, observed } = vjpObserving([mul(x, 2)], [seed], [z, x, z], [z]);
      expect(inputs[0]).toBeNull();
      expect(arr(inputs[1]!)).toEqual([2, 2]);
      expect(inputs[2]).toBeNull();
      expect(observed).toEqual([null]);
    });
  });
});
