import fc from 'fast-check';

export { realIn } from '../../../core/test/helpers/reals.js';

/**
 * Sizes of a small sequence problem for property tests: T steps (from `minT`), batch N, input D, hidden H, a
 * seed, and the fields of `extra`. Small on purpose: every case runs float64 forward and backward passes.
 */
export function seqSizes<E>(extra: { [K in keyof E]: fc.Arbitrary<E[K]> }, minT = 1) {
  const base = fc.record({
    T: fc.integer({ min: minT, max: minT + 3 }),
    N: fc.integer({ min: 1, max: 3 }),
    D: fc.integer({ min: 1, max: 4 }),
    H: fc.integer({ min: 1, max: 4 }),
    seed: fc.nat(1000),
  });
  return fc.tuple(base, fc.record(extra)).map(([sizes, more]) => ({ ...sizes, ...(more as E) }));
}
