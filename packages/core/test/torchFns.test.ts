import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { WebrnnError, tensor } from '@webrnn/core';

/**
 * Torch's tensor functions that rnn programs use (issue 16): cos/sin, logspace/range, cumsum, randperm. Values come
 * from Torch's documentation or from independent loops here; cross-device agreement and gradients of random view
 * chains are the differential harness's (table/*.ts).
 */

const arr = (t: core.Tensor) => Array.from(t.dataSync(), Number);

describe('cos and sin', () => {
  it('match Math.cos / Math.sin at float32 inputs (float64 and float32 tensors)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { maxLength: 20 }), (xs) => {
        const x64 = tensor(xs, { dtype: 'float64' });
        expect(arr(core.cos(x64))).toEqual(xs.map(Math.cos));
        expect(arr(x64.sin())).toEqual(xs.map(Math.sin));
        const x32 = tensor(xs);
        const f = arr(x32);
        arr(x32.cos()).forEach((v, i) => expect(v).toBeCloseTo(Math.cos(f[i]!), 6));
        arr(core.sin(x32)).forEach((v, i) => expect(v).toBeCloseTo(Math.sin(f[i]!), 6));
      }),
    );
  });

  it('give the known values and NaN for NaN and +-Inf', () => {
    const x = tensor(
      [0, Math.PI / 2, Math.PI, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      {
        dtype: 'float64',
      },
    );
    const c = arr(core.cos(x));
    const s = arr(core.sin(x));
    expect(c.slice(0, 3).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, 0, -1]);
    expect(s.slice(0, 3).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([0, 1, 0]);
    expect(c.slice(3).every(Number.isNaN)).toBe(true);
    expect(s.slice(3).every(Number.isNaN)).toBe(true);
  });

  it('differentiate: d cos = -sin, d sin = cos', () => {
    const xs = [-2.5, -1, 0, 0.7, 3];
    const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
    core.cos(x).sum().backward();
    expect(arr(x.grad!)).toEqual(xs.map((v) => -Math.sin(v)));
    const y = tensor(xs, { dtype: 'float64', requiresGrad: true });
    y.sin().sum().backward();
    expect(arr(y.grad!)).toEqual(xs.map(Math.cos));
  });

  it('refuse int32 naming the op', () => {
    expect(() => core.cos(tensor([1, 2], { dtype: 'int32' }))).toThrow(WebrnnError);
    expect(() => core.sin(tensor([1, 2], { dtype: 'int32' }))).toThrow(/sin/);
  });
});
