import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
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
      fc.property(fc.array(realIn(-10, 10), { maxLength: 20 }), (xs) => {
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

/** Rounded to 4 decimals, as Torch's documentation prints. */
const r4 = (t: core.Tensor) => arr(t).map((v) => Math.round(v * 1e4) / 1e4);

describe('range (inclusive) and logspace', () => {
  it("give torch.range's documented values", () => {
    expect(arr(core.range(1, 4))).toEqual([1, 2, 3, 4]);
    expect(arr(core.range(1, 4, 0.5))).toEqual([1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(core.range(1, 4).dtype).toBe('float32');
    expect(r4(core.range(0, 1, 0.1, { dtype: 'float64' }))).toEqual([
      0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
    ]);
    expect(arr(core.range(4, 1, -1, { dtype: 'int32' }))).toEqual([4, 3, 2, 1]);
    expect(arr(core.range(2, 2))).toEqual([2]);
  });

  it('has floor((end - start) / step) + 1 values, end included when reached, and arange = range minus its end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -20, max: 20 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom(1, 2, 3, -2),
        (a, len, s) => {
          const b = a + Math.sign(s) * len;
          const got = arr(core.range(a, b, s, { dtype: 'float64' }));
          expect(got.length).toBe(Math.floor(len / Math.abs(s)) + 1);
          got.forEach((v, i) => expect(v).toBe(a + i * s));
          if (len % Math.abs(s) === 0) {
            expect(got.at(-1)).toBe(b);
            expect(arr(core.arange(a, b, s))).toEqual(got.slice(0, -1));
          }
        },
      ),
    );
  });

  it("give torch.logspace's documented values", () => {
    expect(
      arr(core.logspace(-10, 10, 5, 10, { dtype: 'float64' })).map((v) => Number(v.toPrecision(12))),
    ).toEqual([1e-10, 1e-5, 1, 1e5, 1e10]);
    expect(r4(core.logspace(0.1, 1.0, 5))).toEqual([1.2589, 2.1135, 3.5481, 5.9566, 10]);
    expect(r4(core.logspace(0.1, 1.0, 1))).toEqual([1.2589]);
    expect(arr(core.logspace(2, 2, 1, 2))).toEqual([4]);
    expect(arr(core.logspace(0, 3, 4, 2))).toEqual([1, 2, 4, 8]);
    expect(core.logspace(0, 1, 0).shape).toEqual([0]);
  });

  it('refuse bad arguments naming the op and what it got', () => {
    expect(() => core.range(1, 4, 0)).toThrow(/range.*non-zero step.*1, 4, 0/);
    expect(() => core.range(1, 4, -1)).toThrow(/range.*sign.*step -1/);
    expect(() => core.range(0, Number.NaN)).toThrow(WebrnnError);
    expect(() => core.logspace(0, 1, 2.5)).toThrow(/logspace.*non-negative integer, got 2.5/);
    expect(() => core.logspace(0, 1, 3, -2)).toThrow(/logspace.*positive base.*base -2/);
    expect(() => core.logspace(0, Number.POSITIVE_INFINITY, 3)).toThrow(WebrnnError);
  });
});

/** Running sums along `axis` of a row-major [rows, n, cols] view, in float64, one element after another. */
function naiveCumsum(xs: number[], shape: number[], axis: number): number[] {
  const n = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const out = xs.slice();
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++)
      for (let k = 1; k < n; k++) {
        const at = (o * n + k) * inner + i;
        out[at] = out[at - inner]! + xs[at]!;
      }
  return out;
}

describe('cumsum', () => {
  it('gives the running sums of every axis (float64 against a loop; int32 exactly)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
            xs: fc.array(fc.integer({ min: -1000, max: 1000 }), {
              minLength: shape.reduce((p, d) => p * d, 1),
              maxLength: shape.reduce((p, d) => p * d, 1),
            }),
          }),
        ),
        ({ shape, axis, xs }) => {
          const a = axis < 0 ? axis + shape.length : axis;
          const want = naiveCumsum(xs, shape, a);
          const f = core.reshape(
            tensor(
              xs.map((v) => v / 8),
              { dtype: 'float64' },
            ),
            shape,
          );
          expect(arr(core.cumsum(f, axis))).toEqual(want.map((v) => v / 8));
          const i = core.reshape(tensor(xs, { dtype: 'int32' }), shape);
          const y = i.cumsum(axis);
          expect(y.dtype).toBe('int32');
          expect(arr(y)).toEqual(want);
        },
      ),
    );
  });

  it('carries NaN and Inf to the outputs after them only; a scalar is its own sum', () => {
    const x = tensor([1, 2, Number.POSITIVE_INFINITY, 3, Number.NaN, 4]);
    expect(arr(core.cumsum(x, 0))).toEqual([1, 3, Infinity, Infinity, Number.NaN, Number.NaN]);
    expect(arr(core.cumsum(tensor(2.5), 0))).toEqual([2.5]);
    expect(core.cumsum(tensor(2.5), -1).shape).toEqual([]);
  });

  it('has the reverse cumsum as its gradient', () => {
    const x = tensor([1, 2, 3, 4, 5], { dtype: 'float64', requiresGrad: true });
    core
      .cumsum(x, 0)
      .mul(tensor([1, 10, 100, 1000, 10000], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(arr(x.grad!)).toEqual([11111, 11110, 11100, 11000, 10000]);
  });

  it('frees its intermediates', () => {
    const x = core.randn([3, 37]);
    const before = core.memory().tensors;
    const y = core.cumsum(x, 1);
    expect(core.memory().tensors).toBe(before + 1);
    y.dispose();
    x.dispose();
  });

  it('refuses a bad axis or a non-tensor naming the op', () => {
    expect(() => core.cumsum(tensor([1, 2]), 1)).toThrow(/cumsum.*axis 1.*rank 1/);
    expect(() => core.cumsum(tensor([1, 2]), 0.5)).toThrow(WebrnnError);
    expect(() => core.cumsum([1, 2] as never, 0)).toThrow(/cumsum/);
  });
});

describe('randperm', () => {
  it('is a permutation of 0 .. n-1 in int32, the same for the same seed, different across seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 30 }), (n, seed) => {
        const p = core.randperm(n, { generator: new core.Generator(seed) });
        expect(p.dtype).toBe('int32');
        expect(p.shape).toEqual([n]);
        const v = arr(p);
        expect(v.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(arr(core.randperm(n, { generator: new core.Generator(seed) }))).toEqual(v);
      }),
    );
    const a = arr(core.randperm(50, { generator: new core.Generator(1) }));
    const b = arr(core.randperm(50, { generator: new core.Generator(2) }));
    expect(a).not.toEqual(b);
  });

  it('puts every value at every position about equally often (n = 4, 4000 draws)', () => {
    const g = new core.Generator(7);
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    for (let k = 0; k < 4000; k++)
      arr(core.randperm(4, { generator: g })).forEach((v, i) => counts[i]![v]!++);
    for (const row of counts) for (const c of row) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('refuses a bad n naming the op', () => {
    expect(() => core.randperm(-1)).toThrow(/randperm.*got -1/);
    expect(() => core.randperm(2.5)).toThrow(/randperm.*integer.*got 2.5/);
  });
});

/** Torch's order: ascending with NaN largest; a stable JS sort of the positions gives the reference permutation. */
function refOrder(xs: number[], descending: boolean): number[] {
  const key = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
  const nan = (v: number) => (Number.isNaN(v) ? 1 : 0);
  return xs
    .map((_, i) => i)
    .sort((i, j) => {
      const [a, b] = descending ? [xs[j]!, xs[i]!] : [xs[i]!, xs[j]!];
      return nan(a) - nan(b) || key(a) - key(b) || 0;
    });
}

const rowsArb = fc
  .record({ rows: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 0, max: 9 }) })
  .chain(({ rows, n }) =>
    fc.array(
      fc.array(
        fc.oneof(
          fc.integer({ min: -3, max: 3 }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.5),
        ),
        { minLength: n, maxLength: n },
      ),
      { minLength: rows, maxLength: rows },
    ),
  );

describe('sort and topk', () => {
  it('sort rows stably, NaN largest, ascending or descending, along either axis', () => {
    fc.assert(
      fc.property(rowsArb, fc.boolean(), fc.boolean(), (rows, descending, transposed) => {
        const n = rows[0]!.length;
        const x = tensor(rows, { dtype: 'float64' });
        const s = transposed ? core.sort(x.t(), 0, { descending }) : x.sort(-1, { descending });
        const values = transposed ? s.values.t() : s.values;
        const indices = transposed ? s.indices.t() : s.indices;
        expect(s.indices.dtype).toBe('int32');
        const gotI = arr(indices.contiguous());
        const gotV = arr(values.contiguous());
        rows.forEach((r, k) => {
          const order = refOrder(r, descending);
          expect(gotI.slice(k * n, (k + 1) * n)).toEqual(order);
          expect(gotV.slice(k * n, (k + 1) * n)).toEqual(order.map((i) => r[i]!));
        });
      }),
    );
  });

  it('topk gives the first k of the stable sort, largest by default', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: 0, max: 9 }), fc.boolean(), (rows, kr, largest) => {
        const n = rows[0]!.length;
        const k = kr % (n + 1);
        const x = tensor(rows, { dtype: 'float64' });
        const t = largest && kr % 2 ? x.topk(k) : core.topk(x, k, 1, { largest });
        expect(t.values.shape).toEqual([rows.length, k]);
        const gotI = arr(t.indices.contiguous());
        rows.forEach((r, j) => {
          expect(gotI.slice(j * k, (j + 1) * k)).toEqual(refOrder(r, largest).slice(0, k));
        });
      }),
    );
  });

  it('sort int32 exactly; a scalar sorts to itself with index 0', () => {
    const s = core.sort(
      tensor(
        [
          [5, -2, 5],
          [0, 7, -9],
        ],
        { dtype: 'int32' },
      ),
      0,
      { descending: true },
    );
    expect(s.values.toArraySync()).toEqual([
      [5, 7, 5],
      [0, -2, -9],
    ]);
    expect(s.indices.toArraySync()).toEqual([
      [0, 1, 0],
      [1, 0, 1],
    ]);
    const z = core.sort(tensor(4), 0);
    expect([z.values.itemSync(), z.indices.itemSync(), z.indices.dtype]).toEqual([4, 0, 'int32']);
  });

  it("pass the values' gradient back to the sorted positions", () => {
    const x = tensor([3, 1, 2], { dtype: 'float64', requiresGrad: true });
    core
      .sort(x)
      .values.mul(tensor([1, 10, 100], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(arr(x.grad!)).toEqual([100, 1, 10]);
    const y = tensor([3, 1, 2], { dtype: 'float64', requiresGrad: true });
    core
      .topk(y, 2)
      .values.mul(tensor([1, 10], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(arr(y.grad!)).toEqual([1, 0, 10]);
  });

  it('free their intermediates', () => {
    const x = core.randn([4, 7]);
    const before = core.memory().tensors;
    const s = core.sort(x, 0);
    const t = core.topk(x, 3);
    expect(core.memory().tensors).toBe(before + 4);
    for (const u of [s.values, s.indices, t.values, t.indices, x]) u.dispose();
  });

  it('refuse a bad axis or k naming the op', () => {
    expect(() => core.sort(tensor([1, 2]), 1)).toThrow(/sort.*axis 1.*rank 1/);
    expect(() => core.topk(tensor([1, 2]), 3)).toThrow(/topk.*\[0, 2\].*got 3/);
    expect(() => core.topk(tensor([1, 2]), 1.5)).toThrow(WebrnnError);
    expect(() => core.topk(tensor(3), 0)).toThrow(/topk.*\[1, 1\].*got 0/);
    expect(core.topk(tensor(3), 1).values.itemSync()).toBe(3);
    expect(() => core.sort('x' as never)).toThrow(/sort/);
  });
});
