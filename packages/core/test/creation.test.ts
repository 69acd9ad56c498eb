import { describe, expect, it } from 'vitest';
import {
  Generator,
  arange,
  full,
  fullLike,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from '@webrnn/core';

/** Creation functions: from data, filled, ranges, and seeded random tensors with their distributions. */

const list = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync());
const stats = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]!;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
};

describe('tensor() from data', () => {
  it('numbers give 0-d tensors', async () => {
    const t = tensor(3.5);
    expect(t.shape).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.rank).toBe(0);
    expect(t.itemSync()).toBe(3.5);
    expect(await t.item()).toBe(3.5);
    expect(t.toArraySync()).toBe(3.5);
    expect(tensor(7, { dtype: 'int32' }).itemSync()).toBe(7);
  });

  it('nested arrays: the shape is the nesting', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.isContiguous).toBe(true);
    expect(await t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(list(t)).toEqual([1, 2, 3, 4, 5, 6]);
    const t3 = tensor([
      [[1], [2]],
      [[3], [4]],
    ]);
    expect(t3.shape).toEqual([2, 2, 1]);
    expect(t3.toArraySync()).toEqual([
      [[1], [2]],
      [[3], [4]],
    ]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([[], []]).toArraySync()).toEqual([[], []]);
  });

  it('typed arrays keep their dtype, are copied, and take a shape', () => {
    const src = new Float64Array([1, 2, 3, 4]);
    const t = tensor(src, { shape: [2, 2] });
    expect(t.dtype).toBe('float64');
    expect(t.toArraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    src[0] = 99; // the tensor owns a copy
    expect(t.dataSync()[0]).toBe(1);
    expect(tensor(new Int32Array([1, -2])).dtype).toBe('int32');
    expect(tensor(new Float32Array([0.1])).dataSync()[0]).toBe(Math.fround(0.1));
    // dataSync hands out a copy too.
    const d = t.dataSync();
    d[1] = 42;
    expect(t.dataSync()[1]).toBe(2);
  });

  it('an explicit dtype converts: float32 rounds; int32 takes integers only (cast() truncates)', () => {
    expect(() => tensor([1.7, -1.7, 2.5], { dtype: 'int32' })).toThrow(
      /^tensor: element 0 is 1.7, not an integer/,
    );
    expect(tensor([1.7, -1.7, 2.5]).cast('int32').toArraySync()).toEqual([1, -1, 2]);
    expect(tensor([0.1], { dtype: 'float64' }).itemSync()).toBe(0.1);
    expect(tensor([0.1]).itemSync()).toBe(Math.fround(0.1));
    expect(tensor(new Float64Array([0.5, 1.5]), { dtype: 'float32' }).dtype).toBe('float32');
    expect(tensor(new Int32Array([3]), { dtype: 'float64' }).itemSync()).toBe(3);
  });

  it('shape reshapes flat or nested data with the same count', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).toArraySync()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(tensor([[1, 2, 3, 4]], { shape: [2, 2] }).shape).toEqual([2, 2]);
    expect(tensor([5], { shape: [] }).shape).toEqual([]);
    expect(tensor([], { shape: [2, 0, 3] }).shape).toEqual([2, 0, 3]);
  });

  it('requiresGrad makes a float leaf', () => {
    const t = tensor([1, 2], { requiresGrad: true });
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
    expect(tensor([1, 2]).requiresGrad).toBe(false);
  });

  it('special values survive', () => {
    const t = tensor([Number.NaN, Number.POSITIVE_INFINITY, -0], { dtype: 'float64' });
    const d = t.dataSync();
    expect(Number.isNaN(d[0]!)).toBe(true);
    expect(d[1]).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is(d[2], -0)).toBe(true);
  });
});

describe('filled tensors and ranges', () => {
  it('zeros, ones, full (dtypes, empty shapes, requiresGrad)', () => {
    expect(list(zeros([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(zeros([2]).dtype).toBe('float32');
    expect(list(ones([3], { dtype: 'int32' }))).toEqual([1, 1, 1]);
    expect(list(full([2], 7.5, { dtype: 'float64' }))).toEqual([7.5, 7.5]);
    expect(() => full([2], 7.5, { dtype: 'int32' })).toThrow(/^full: the fill value is 7.5, not an integer/);
    expect(zeros([0, 3]).size).toBe(0);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([]).itemSync()).toBe(0);
    expect(ones([1], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('zerosLike, onesLike, fullLike keep shape and dtype unless told otherwise', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    for (const [t, v] of [
      [zerosLike(x), 0],
      [onesLike(x), 1],
      [fullLike(x, -2), -2],
    ] as const) {
      expect(t.shape).toEqual([1, 3]);
      expect(t.dtype).toBe('float64');
      expect(list(t)).toEqual([v, v, v]);
    }
    expect(zerosLike(x, { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('arange like torch.arange: end only, start/end/step, negative and fractional steps', () => {
    expect(list(arange(4))).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    expect(list(arange(2, 5))).toEqual([2, 3, 4]);
    expect(list(arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(1, 2, 0.25).dtype).toBe('float32');
    expect(list(arange(3, 0, -1))).toEqual([3, 2, 1]);
    expect(list(arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.1, { dtype: 'float64' }).size).toBe(10);
    expect(arange(3, 3).size).toBe(0);
    expect(arange(0, 3, -1).size).toBe(0);
    expect(arange(0).shape).toEqual([0]);
    expect(arange(3, undefined, undefined, { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('linspace includes both ends', () => {
    expect(list(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(list(linspace(2, -2, 3))).toEqual([2, 0, -2]);
    expect(list(linspace(3, 5, 1))).toEqual([3]);
    expect(linspace(3, 5, 0).size).toBe(0);
    const l = linspace(-1, 1, 7, { dtype: 'float64' }).dataSync();
    expect(l[0]).toBe(-1);
    expect(l[6]).toBe(1);
    expect(linspace(0, 200, 2000).shape).toEqual([2000]);
  });
});

describe('random tensors', () => {
  it('manualSeed makes every random function reproducible', () => {
    const draw = () => [
      list(randn([50])),
      list(rand([50])),
      list(uniform([50], -2, 3)),
      list(randint(0, 10, [50])),
      list(randn([7], { dtype: 'float64' })),
    ];
    manualSeed(42);
    const a = draw();
    manualSeed(42);
    const b = draw();
    expect(a).toEqual(b);
    manualSeed(43);
    const c = draw();
    for (let i = 0; i < a.length; i++) expect(c[i]).not.toEqual(a[i]);
  });

  it('a Generator of its own is independent of the default one', () => {
    const g1 = new Generator(7);
    const x = list(rand([20], { generator: g1 }));
    manualSeed(1);
    rand([100]); // the default generator moves on; g2 is not affected
    const g2 = new Generator(7);
    expect(list(rand([20], { generator: g2 }))).toEqual(x);
    g2.seed(7);
    expect(list(rand([20], { generator: g2 }))).toEqual(x);
  });

  it('randn: mean 0, std 1, about 68% within one std; mean/std options', () => {
    manualSeed(1);
    const n = 20000;
    const d = randn([n], { dtype: 'float64' }).dataSync();
    const s = stats(d);
    // Bounds of 5 standard errors: 1/sqrt(n) for the mean, 1/sqrt(2n) for the std, sqrt(p(1-p)/n) for the fraction.
    expect(Math.abs(s.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s.std - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
    const within = Array.from(d).filter((v) => Math.abs(v) < 1).length / n;
    expect(Math.abs(within - 0.6827)).toBeLessThan(5 * Math.sqrt((0.6827 * 0.3173) / n));
    const shifted = stats(randn([n], { mean: 10, std: 0.5, dtype: 'float64' }).dataSync());
    expect(Math.abs(shifted.mean - 10)).toBeLessThan((5 * 0.5) / Math.sqrt(n));
    expect(Math.abs(shifted.std - 0.5)).toBeLessThan((5 * 0.5) / Math.sqrt(2 * n));
    expect(list(randn([2], { mean: 3, std: 0 }))).toEqual([3, 3]);
  });

  it('rand and uniform: in [low, high), mean and std of the uniform distribution', () => {
    manualSeed(2);
    const n = 20000;
    const u = rand([n], { dtype: 'float64' }).dataSync();
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const su = stats(u);
    const sd = Math.sqrt(1 / 12);
    expect(Math.abs(su.mean - 0.5)).toBeLessThan((5 * sd) / Math.sqrt(n));
    expect(Math.abs(su.std - sd)).toBeLessThan(0.01);
    const w = uniform([n], -2, 3).dataSync();
    expect(w.every((v) => v >= -2 && v < 3)).toBe(true);
    expect(Math.abs(stats(w).mean - 0.5)).toBeLessThan((5 * 5 * sd) / Math.sqrt(n));
    // Ten equal bins get about n/10 each (chi-squared with 9 degrees of freedom, far below its 1e-6 tail of 45).
    const bins = new Array<number>(10).fill(0);
    for (const v of u) bins[Math.floor(v * 10)]!++;
    const chi2 = bins.reduce((acc, b) => acc + (b - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(45);
    expect(list(uniform([3], 4, 4))).toEqual([4, 4, 4]);
  });

  it('float32 draws stay below high even when a double rounds up to it', () => {
    // A generator whose every draw is just below 1: in float32, 1 - 2^-30 rounds to 1.
    class High extends Generator {
      override next(): number {
        return 1 - 2 ** -30;
      }
    }
    const r = rand([4], { generator: new High() }).dataSync();
    expect(r.every((v) => v < 1)).toBe(true);
    expect(r[0]).toBe(1 - 2 ** -24); // the largest float32 below 1
    expect(
      uniform([2], -1, 0.3, { generator: new High() })
        .dataSync()
        .every((v) => v < 0.3),
    ).toBe(true);
    // float64 keeps the draw as it is.
    expect(rand([1], { generator: new High(), dtype: 'float64' }).itemSync()).toBe(1 - 2 ** -30);
  });

  it('randint: int32 in [low, high), every value about equally often', () => {
    manualSeed(3);
    const n = 20000;
    const k = randint(-2, 3, [n]).dataSync();
    expect(k).toBeInstanceOf(Int32Array);
    const counts = new Map<number, number>();
    for (const v of k) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    const chi2 = [...counts.values()].reduce((acc, c) => acc + (c - n / 5) ** 2 / (n / 5), 0);
    expect(chi2).toBeLessThan(35); // 4 degrees of freedom: the 1e-6 tail is about 33
    expect(randint(0, 3, [2, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(
      randint(5, 6, [3])
        .dataSync()
        .every((v) => v === 5),
    ).toBe(true);
  });

  it('shapes, dtypes and empty tensors', () => {
    expect(randn([2, 3]).shape).toEqual([2, 3]);
    expect(randn([0, 3]).size).toBe(0);
    expect(rand([], { dtype: 'float64' }).shape).toEqual([]);
    expect(uniform([2], 0, 1, { requiresGrad: true }).requiresGrad).toBe(true);
  });
});
