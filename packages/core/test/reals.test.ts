import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';

// The property tests' reals must cover their range: fc.double over a range around 0 draws nine values in ten
// below 1e-3 in magnitude, which is how a property once tested a learning rate of almost always 0.
describe('realIn: reals spread over [min, max]', () => {
  for (const f32 of [false, true]) {
    it(`${f32 ? 'float32' : 'float64'}: inside the bounds, spread over the range, with the edges among them`, () => {
      for (const [min, max] of [
        [-3, 3],
        [-1e3, 1e3],
        [0.3, 2.5],
        [-2, 0.1],
      ] as const) {
        const xs = fc.sample(realIn(min, max, { f32 }), { numRuns: 4000, seed: 7 });
        const [lo, hi] = f32 ? [Math.fround(min), Math.fround(max)] : [min, max];
        for (const x of xs) {
          expect(x).toBeGreaterThanOrEqual(lo);
          expect(x).toBeLessThanOrEqual(hi);
          if (f32) expect(Math.fround(x)).toBe(x);
        }
        // Each tenth of the range gets a fair share of the draws (uniform: about 9% each, with the edges' tenth).
        const tenths = new Array(10).fill(0);
        for (const x of xs) tenths[Math.min(9, Math.floor(((x - lo) / (hi - lo)) * 10))]++;
        for (const count of tenths) expect(count / xs.length).toBeGreaterThan(0.05);
        expect(xs.filter((x) => Math.abs(x) < 1e-3 * (hi - lo)).length / xs.length).toBeLessThan(0.15);
      }
    });
  }
});
