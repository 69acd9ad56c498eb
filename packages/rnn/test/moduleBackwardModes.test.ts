/**
 * Module's three backward entry points (Torch's nn.Module protocol) on a container: `backward` = updateGradInput +
 * accGradParameters; `updateGradInput` gives the gradInput and leaves the parameters' gradients alone;
 * `accGradParameters` accumulates scale times them and leaves gradInput as it was; each refuses to run before a
 * forward, under its own name.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { arr, expectClose, f64, gradValues } from './recurrentHelpers.js';

const net = () => {
  manualSeed(3);
  return new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2)).double();
};

describe('backward, updateGradInput and accGradParameters of a container', () => {
  const x = () => (manualSeed(4), randn([5, 3], f64));
  const gy = () => (manualSeed(5), randn([5, 2], f64));

  it('updateGradInput gives backward’s gradInput and no parameter gradient', () => {
    const a = net();
    a.zeroGradParameters();
    a.forward(x());
    const gb = arr(a.backward(x(), gy()) as Tensor);
    const b = net();
    b.zeroGradParameters();
    b.forward(x());
    expect(arr(b.updateGradInput(x(), gy()) as Tensor)).toEqual(gb);
    for (const g of gradValues(b)) expect(g.every((v) => v === 0)).toBe(true);
  });

  it('accGradParameters accumulates scale times backward’s gradients and keeps the gradInput', () => {
    const a = net();
    a.zeroGradParameters();
    a.forward(x());
    a.backward(x(), gy());
    const once = gradValues(a);
    const b = net();
    b.zeroGradParameters();
    b.forward(x());
    const gi = b.updateGradInput(x(), gy());
    b.accGradParameters(x(), gy(), 0.5);
    b.accGradParameters(x(), gy(), 2);
    expect(b.gradInput).toBe(gi);
    expectClose(
      gradValues(b),
      once.map((g) => g.map((v) => 2.5 * v)),
      1e-12,
      'accumulated',
    );
  });

  it('each refuses to run before a forward, under its own name', () => {
    for (const op of ['backward', 'updateGradInput', 'accGradParameters'] as const) {
      const m = net();
      expect(() => m[op](x(), gy())).toThrow(
        `${op}: called before forward: there is no output to backpropagate from`,
      );
    }
  });
});
