import { describe, expect, it } from 'vitest';
import {
  WebrnnError,
  add,
  matmul,
  memory,
  mul,
  noGrad,
  ones,
  sum,
  tensor,
  tidy,
  vjp,
  zeros,
} from '@webrnn/core';

const f64 = { dtype: 'float64' as const };

describe('the tape', () => {
  it('accumulates gradients into .grad across backward calls', () => {
    const x = tensor([1, 2, 3], { ...f64, requiresGrad: true });
    sum(mul(x, x)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6]);
    sum(mul(x, 3)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 7, 9]);
  });

  it('sums the gradients of a tensor used twice', () => {
    const x = tensor([2], { ...f64, requiresGrad: true });
    const y = mul(add(x, x), x); // 2x^2 -> 4x
    y.backward();
    expect(x.grad!.itemSync()).toBe(8);
  });

  it('refuses a second backward through a freed graph, and allows it with retainGraph', () => {
    const x = tensor([1, 2], { ...f64, requiresGrad: true });
    const y = sum(mul(x, x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(/already freed.*retainGraph/);
  });

  it('refuses backward on a tensor that does not require grad, and an implied gradient for non-scalars', () => {
    expect(() => sum(tensor([1, 2])).backward()).toThrow(/does not require grad/);
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => mul(x, 2).backward()).toThrow(/single-element output; pass one of shape \[2\]/);
  });

  it('uses an explicit output gradient', () => {
    const x = tensor([1, 2], { ...f64, requiresGrad: true });
    mul(x, x).backward(tensor([10, 100], f64));
    expect(Array.from(x.grad!.dataSync())).toEqual([20, 400]);
  });

  it('detach and noGrad cut the graph', () => {
    const x = tensor([3], { requiresGrad: true });
    expect(mul(x.detach(), 2).requiresGrad).toBe(false);
    expect(noGrad(() => mul(x, 2)).requiresGrad).toBe(false);
    expect(mul(x, 2).requiresGrad).toBe(true);
  });

  it('refuses to use a saved tensor modified in place', () => {
    const x = tensor([1, 2], { ...f64, requiresGrad: true });
    const h = mul(x, 1); // non-leaf
    const y = sum(mul(h, h));
    noGrad(() => h.add_(1));
    expect(() => y.backward()).toThrow(/modified in place/);
  });

  it('refuses in-place changes to leaves that require grad while recording', () => {
    const w = tensor([1], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow(/add_: a leaf tensor that requires grad/);
    noGrad(() => w.add_(1));
    expect(w.itemSync()).toBe(2);
  });

  it('vjp stops at the given inputs and can accumulate into parameters', () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { ...f64, requiresGrad: true },
    );
    const x0 = tensor([[1, 1]], f64);
    const x = mul(x0, 1); // a boundary that is not a leaf
    const h = matmul(x, w);
    const xr = tensor([[5, 6]], { ...f64, requiresGrad: true });
    const hx = add(h, xr);
    const [gx, gxr] = vjp([hx], [ones([1, 2], f64)], [x, xr], { accumulateLeaves: true });
    expect(gx).toBeNull(); // x0 does not require grad, so nothing flows to x
    expect(Array.from(gxr!.dataSync())).toEqual([1, 1]);
    expect(xr.grad).toBeNull(); // an input's gradient is returned, not accumulated
    expect(Array.from(w.grad!.dataSync())).toEqual([1, 1, 1, 1]);
  });

  it('handles graphs far deeper than the JS stack (unrolled BPTT)', () => {
    const x = tensor([1], { ...f64, requiresGrad: true });
    let h = x;
    for (let i = 0; i < 20000; i++) h = add(h, 0.5);
    h.backward();
    expect(x.grad!.itemSync()).toBe(1);
  });
});

describe('memory', () => {
  it('tidy disposes intermediates but keeps the result and the graph alive for backward', () => {
    const w = tensor([1, 2, 3], { ...f64, requiresGrad: true });
    const before = memory().tensors;
    const loss = tidy(() => sum(mul(mul(w, w), 2)));
    expect(memory().tensors).toBeGreaterThan(before); // loss + tensors the graph saved
    loss.backward();
    loss.dispose();
    expect(memory().tensors).toBe(before + 1); // only w.grad remains
    expect(Array.from(w.grad!.dataSync())).toEqual([4, 8, 12]);
  });

  it('a training-like loop keeps tensors and bytes flat', () => {
    const w = tensor(
      [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      { requiresGrad: true },
    );
    const x = tensor([[1, 2]]);
    const step = () => {
      tidy(() => {
        const loss = sum(mul(matmul(x, w), 2).tanh());
        loss.backward();
      });
      noGrad(() => tidy(() => w.sub_(mul(w.grad!, 0.1))));
      w.zeroGrad();
    };
    step();
    const m0 = memory();
    for (let i = 0; i < 200; i++) step();
    const m1 = memory();
    expect(m1.tensors).toBe(m0.tensors);
    expect(m1.bytes).toBe(m0.bytes);
  });

  it('a disposed tensor cannot be used, and says so', () => {
    const t = zeros([2, 3]);
    t.dispose();
    expect(() => add(t, 1)).toThrow(WebrnnError);
    expect(() => add(t, 1)).toThrow(/add: tensor #\d+ of shape \[2, 3\] was disposed/);
  });

  it('works with `using`', () => {
    const before = memory().tensors;
    {
      using t = zeros([4]);
      expect(t.size).toBe(4);
    }
    expect(memory().tensors).toBe(before);
  });
});
