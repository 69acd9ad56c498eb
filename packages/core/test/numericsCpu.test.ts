import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { expectIeee } from './helpers/ieee.js';
import { SPECIAL_CASES } from './helpers/specialValues.js';

/**
 * The CPU gives PyTorch's answers at NaN, +-Inf and +-0 (values from PyTorch 1.13 in fixtures/specialValues.json),
 * in float64 (exact, but for transcendental functions) and float32 (rounded); and the C99 cases of pow that
 * JavaScript's Math.pow answers differently. The sign of a zero result is not compared: PyTorch's own differs
 * between its scalar and vectorised loops (relu(-0) is -0 on a short tensor, +0 on a long one).
 */
describe('special values on the CPU equal PyTorch', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const c of SPECIAL_CASES) {
      it(`${c.name} (${dtype})`, () => {
        const got = c.run('cpu', dtype).dataSync();
        const tol = dtype === 'float32' ? 1e-6 : c.inexact ? 1e-12 : 0;
        expectIeee(c.name, c.want, got, tol, tol);
      });
    }
  }

  it('pow follows C99 where Math.pow does not: pow(1, NaN) = 1, pow(-1, +-Inf) = 1', () => {
    // C99 7.12.7.4 and PyTorch (std::pow): pow(+1, y) = 1 for any y, even NaN; pow(-1, +-Inf) = 1.
    // JavaScript's Math.pow gives NaN for all three.
    const a = core.tensor([1, 1, -1, -1, 1], { dtype: 'float64' });
    const b = core.tensor(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, -Infinity, -Infinity],
      {
        dtype: 'float64',
      },
    );
    expect(Array.from(core.pow(a, b).dataSync())).toEqual([1, 1, 1, 1, 1]);
    expect(Math.pow(1, Number.NaN)).toBeNaN();
  });
});
