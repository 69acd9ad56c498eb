import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BINARY_FORMULAS,
  INT32_MAX,
  INT32_MIN,
  PARAM_UNARY_FORMULAS,
  UNARY_FORMULAS,
  intParams,
  jsFormula,
  wgslFormula,
} from '../src/index.js';

/**
 * The formula table's helpers (formulas.ts): which text a backend compiles for float or int32 elements, and the
 * int32 parameters of clamp and affine as both backends apply them (clamp's bounds cut to the int32 range, affine's
 * reduced modulo 2^32, as Int32Array stores them).
 */
const ALL = [
  ...Object.values(UNARY_FORMULAS),
  ...Object.values(BINARY_FORMULAS),
  ...Object.values(PARAM_UNARY_FORMULAS),
];

describe('the formula table', () => {
  it('gives the int32 text where one is written, else the float one, on both sides', () => {
    for (const f of ALL) {
      expect(jsFormula(f, false)).toBe(f.js);
      expect(wgslFormula(f, false)).toBe(f.wgsl);
      expect(jsFormula(f, true)).toBe(f.jsInt ?? f.js);
      expect(wgslFormula(f, true)).toBe(f.wgslInt ?? f.wgsl);
    }
    // Both kinds occur: some ops have int32 texts, some share the float one.
    expect(ALL.some((f) => f.wgslInt !== undefined && f.wgslInt !== f.wgsl)).toBe(true);
    expect(ALL.some((f) => f.wgslInt === undefined)).toBe(true);
  });

  it("cuts clamp's bounds to the int32 range (infinite ones too), toward zero", () => {
    const bound = fc.oneof(
      fc.integer({ min: INT32_MIN, max: INT32_MAX }),
      fc.double({ min: -1e12, max: 1e12, noNaN: true }),
      fc.constantFrom(Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1),
    );
    const cut = (v: number) => (v >= INT32_MAX ? INT32_MAX : v <= INT32_MIN ? INT32_MIN : Math.trunc(v));
    fc.assert(
      fc.property(bound, bound, (lo, hi) => {
        expect(intParams('clamp', [lo, hi])).toEqual([cut(lo), cut(hi)]);
      }),
    );
  });

  it("reduces affine's scale and shift modulo 2^32, as an Int32Array stores them", () => {
    const v = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
    fc.assert(
      fc.property(v, v, (a, b) => {
        expect(intParams('affine', [a, b])).toEqual([Int32Array.of(a)[0], Int32Array.of(b)[0]]);
      }),
    );
    expect(intParams('affine', [2 ** 32 + 5, -(2 ** 31) - 1])).toEqual([5, INT32_MAX]);
    expect(intParams('clamp', [2 ** 32 + 5, -(2 ** 31) - 1])).toEqual([INT32_MAX, INT32_MIN]);
  });

  it('reads missing parameters as 0', () => {
    expect(intParams('clamp', [])).toEqual([0, 0]);
    expect(intParams('affine', [7])).toEqual([7, 0]);
  });
});
