import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { WebrnnError, tensor } from '@webrnn/core';

/**
 * Edges of the reductions that the op tables do not reach (found by mutation testing, README "Mutation testing"):
 * refusals name the op and its argument, and the mean over an empty axis is NaN, as in PyTorch.
 */
describe('reductions', () => {
  const notTensors: unknown[] = [undefined, null, 3, [1, 2], { shape: [2] }];
  const ops: [string, (v: never) => unknown][] = [
    ['sum', (v) => core.sum(v)],
    ['mean', (v) => core.mean(v, 0)],
    ['max', (v) => core.max(v)],
    ['min', (v) => core.min(v, 0)],
    ['argmax', (v) => core.argmax(v, 0)],
    ['argmin', (v) => core.argmin(v)],
  ];
  it.each(ops)('%s: an argument x that is not a Tensor is refused, naming the op and x', (op, call) => {
    for (const v of notTensors) {
      expect(() => call(v as never)).toThrow(WebrnnError);
      expect(() => call(v as never)).toThrow(new RegExp(`^${op}: argument x is .*, expected a Tensor`));
    }
  });

  it('the mean over an empty axis is NaN for every kept element, and 0-d for the whole empty tensor', () => {
    const x = tensor([], { dtype: 'float64', shape: [3, 0] });
    const m = core.mean(x, 1);
    expect(m.shape).toEqual([3]);
    expect(Array.from(m.dataSync()).every(Number.isNaN)).toBe(true);
    const all = core.mean(x);
    expect(all.shape).toEqual([]);
    expect(Number.isNaN(all.dataSync()[0])).toBe(true);
  });
});
