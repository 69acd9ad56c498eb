import { describe, expect, it } from 'vitest';
import {
  arange,
  full,
  linspace,
  manualSeed,
  ones,
  rand,
  randint,
  randn,
  tensor,
  uniform,
  zeros,
} from '@webrnn/core';

const stats = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]!;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
};

describe('creating tensors', () => {
  it('from numbers, nested arrays and typed arrays, with dtypes', async () => {
    expect(tensor(3).shape).toEqual([]);
    expect(await tensor(3).item()).toBe(3);
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(await t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).toArraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tensor([1.7, -1.7], { dtype: 'int32' }).toArraySync()).toEqual([1, -1]);
    expect(tensor([]).shape).toEqual([0]);
  });

  it('zeros, ones, full, arange, linspace', () => {
    expect(Array.from(zeros([2]).dataSync())).toEqual([0, 0]);
    expect(Array.from(ones([2], { dtype: 'int32' }).dataSync())).toEqual([1, 1]);
    expect(Array.from(full([3], 7).dataSync())).toEqual([7, 7, 7]);
    expect(arange(4).dtype).toBe('int32');
    expect(Array.from(arange(4).dataSync())).toEqual([0, 1, 2, 3]);
    expect(Array.from(arange(1, 2, 0.25).dataSync())).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(arange(3, 0, -1).dataSync())).toEqual([3, 2, 1]);
    expect(Array.from(linspace(0, 1, 5).dataSync())).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(0, 200, 2000).shape).toEqual([2000]);
  });

  it('random tensors are reproducible with manualSeed and have the right distributions', () => {
    manualSeed(42);
    const a = Array.from(randn([1000]).dataSync());
    manualSeed(42);
    const b = Array.from(randn([1000]).dataSync());
    expect(a).toEqual(b);
    manualSeed(1);
    const n = stats(randn([20000], { dtype: 'float64' }).dataSync());
    expect(Math.abs(n.mean)).toBeLessThan(0.03);
    expect(Math.abs(n.std - 1)).toBeLessThan(0.03);
    const u = rand([20000], { dtype: 'float64' }).dataSync();
    const su = stats(u);
    expect(Math.abs(su.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(su.std - Math.sqrt(1 / 12))).toBeLessThan(0.01);
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const w = uniform([5000], -2, 3).dataSync();
    expect(w.every((v) => v >= -2 && v < 3)).toBe(true);
    const k = randint(0, 5, [5000]).dataSync();
    expect(new Set(k)).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(randn([2], { mean: 10, std: 0 }).dataSync()[0]).toBe(10);
  });
});
