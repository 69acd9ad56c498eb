import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, mul, nn, ones, randn, sum, tidy } from '@webrnn/rnn';
import { f64, jacobian } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Element-research rnn's nn.Dropout(p, v1, inplace, lazy, mono): a lazy Dropout keeps its mask until a backward
 * went through it (the Bayesian GRU/LSTM's mask per sequence), mono draws one mask for the whole batch. The mask
 * is read back as output / input (inputs are all non-zero).
 */
const gpu = await webgpuForFile('nn.Dropout lazy/mono');

const maskOf = (d: nn.Dropout, x: Tensor): number[] => {
  const y = (d.forward(x) as Tensor).dataSync();
  const xs = x.dataSync();
  // Rounded: y / x is the mask up to the rounding of the product.
  return Array.from(y, (v, i) => Math.round((v / xs[i]!) * 1e9) / 1e9);
};
const nonZero = (shape: number[]) => randn(shape, f64).abs().add(0.5);

describe('nn.Dropout lazy and mono (Element-research rnn)', () => {
  it('lazy: one mask until a backward through it, then a new one; busy: a new mask every forward', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(0.3, 0.5), (seed, p) => {
        tidy(() => {
          manualSeed(seed);
          const x = nonZero([6, 7]);
          const lazy = new nn.Dropout(p, false, false, true).double();
          const m1 = maskOf(lazy, x);
          expect(new Set(m1)).toEqual(new Set([0, Math.round(1e9 / (1 - p)) / 1e9]));
          // Forwards without a backward reuse the mask (the steps of one sequence), whatever the input values.
          expect(maskOf(lazy, x)).toEqual(m1);
          expect(maskOf(lazy, mul(x, 3))).toEqual(m1);
          // The gradient is masked by the same mask; after it, the next forward draws anew.
          const gi = (lazy.backward(x, ones([6, 7], f64)) as Tensor).dataSync();
          expect(Array.from(gi, (v) => Math.round(v * 1e9) / 1e9)).toEqual(m1);
          const m2 = maskOf(lazy, x);
          expect(m2).not.toEqual(m1);
          expect(maskOf(lazy, x)).toEqual(m2);
          const busy = new nn.Dropout(p).double();
          expect(maskOf(busy, x)).not.toEqual(maskOf(busy, x));
          lazy.dispose();
        });
      }),
      { numRuns: 10 },
    );
  });

  it('lazy inside a container: a Torch-style backward of the container, or loss.backward(), counts', () => {
    manualSeed(3);
    const d = new nn.Dropout(0.5, false, false, true).double();
    const net = new nn.Sequential().add(new nn.Linear(4, 5)).add(d).double();
    const x = randn([3, 4], f64);
    const run = () => (net.forward(x) as Tensor).dataSync();
    const a = run();
    expect(run()).toEqual(a);
    net.backward(x, ones([3, 5], f64));
    const b = run();
    expect(b).not.toEqual(a);
    expect(run()).toEqual(b);
    tidy(() => sum(net.forward(x) as Tensor).backward());
    expect(run()).not.toEqual(b);
    // forget() and clearState() also start a new mask.
    const c = run();
    net.forget();
    const e = run();
    expect(e).not.toEqual(c);
    net.clearState();
    const f = run();
    expect(f).not.toEqual(e);
    // setp() too: the kept mask was drawn and scaled for the old p.
    d.setp(0.2);
    const g = run();
    expect(g).not.toEqual(f);
    expect(run()).toEqual(g);
    net.dispose();
  });

  it('mono: one mask for the whole batch (rows share it), lazy or not', () => {
    for (const lazy of [false, true]) {
      manualSeed(lazy ? 5 : 6);
      const d = new nn.Dropout(0.5, false, false, lazy, true).double();
      const x = nonZero([5, 40]);
      const m = maskOf(d, x);
      const rows = Array.from({ length: 5 }, (_, n) => m.slice(n * 40, (n + 1) * 40));
      for (const r of rows) expect(r).toEqual(rows[0]);
      expect(rows[0]!.some((v) => v === 0)).toBe(true);
      expect(rows[0]!.some((v) => v !== 0)).toBe(true);
      // mono's lazy mask serves another batch size (it is broadcast), as Torch's narrow-and-expand.
      if (lazy) expect(maskOf(d, nonZero([2, 40]))).toEqual([...rows[0]!, ...rows[0]!]);
      d.dispose();
    }
  });

  it('v1 lazy: unscaled mask in training, (1 - p) at evaluation; stochasticInference keeps dropping', () => {
    manualSeed(7);
    const d = new nn.Dropout(0.4, true, false, true).double();
    const x = nonZero([3, 9]);
    const m = maskOf(d, x);
    expect(m.every((v) => Math.abs(v) < 1e-12 || Math.abs(v - 1) < 1e-12)).toBe(true);
    d.evaluate();
    expect(maskOf(d, x).every((v) => Math.abs(v - 0.6) < 1e-12)).toBe(true);
    d.stochasticInference = true;
    expect(maskOf(d, x)).toEqual(m);
    d.dispose();
  });

  it('passes Jacobian checks with its mask (lazy, mono)', () => {
    jacobian(new nn.Dropout(0.3, false, false, true).double(), randn([3, 4], f64), 1);
    jacobian(new nn.Dropout(0.3, false, false, true, true).double(), randn([3, 4], f64), 2);
    jacobian(new nn.Dropout(0.3, false, false, false, true).double(), randn([2, 3, 2], f64), 3);
  });

  it('refuses another shape while its lazy mask is in use, and holds no tensor after dispose', () => {
    const before = memory().tensors;
    const d = new nn.Dropout(0.5, false, false, true);
    tidy(() => {
      d.forward(randn([2, 3]));
    });
    expect(() =>
      tidy(() => {
        d.forward(randn([3, 3]));
      }),
    ).toThrow(
      'nn.Dropout(0.5, lazy): input: has shape [3, 3], but the lazy mask in use was drawn for shape [2, 3]',
    );
    expect(String(d)).toBe('nn.Dropout(0.5, lazy)');
    expect(String(new nn.Dropout(0.25))).toBe('nn.Dropout(0.250000)');
    d.dispose();
    expect(memory().tensors).toBe(before);
  });

  it.skipIf(!gpu)('on WebGPU draws the CPU mask from the same seed (lazy and mono)', async () => {
    const run = (device: 'cpu' | 'webgpu') => {
      manualSeed(11);
      const d = new nn.Dropout(0.5, false, false, true, true);
      const x = randn([4, 6]).to(device);
      const y1 = d.forward(x) as Tensor;
      const y2 = d.forward(x) as Tensor;
      const g = d.backward(x, ones([4, 6]).to(device)) as Tensor;
      return [y1, y2, g];
    };
    const a = run('cpu');
    const b = run('webgpu');
    for (let i = 0; i < a.length; i++) await expectCloseToCpu(`tensor ${i}`, a[i]!, b[i]!, 1e-6);
  });
});
