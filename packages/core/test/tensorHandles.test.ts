import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
import { type Tensor, memory, mul, sum, tensor, tidy, to, toAsync, transpose } from '@webrnn/core';

/**
 * The two tensor handles: detach() (same storage and view, cut from the graph) and handle() (same storage and view,
 * at the same place in the graph), each with its own hold on the storage. Gradients are checked against the
 * analytic ones in float64: d/dx sum((x * c) ⊙ r) = c * r.
 */

const f64 = { dtype: 'float64' as const };
const arr = (t: Tensor) => Array.from(t.dataSync());
const value = realIn(-4, 4);
/** A [rows, cols] input, a scale and a seed of the same shape, and whether to look through a transposed view. */
const problem = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([rows, cols]) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      x: fc.array(value, { minLength: rows * cols, maxLength: rows * cols }),
      r: fc.array(value, { minLength: rows * cols, maxLength: rows * cols }),
      c: value,
      transposed: fc.boolean(),
    }),
  );
type Problem = typeof problem extends fc.Arbitrary<infer P> ? P : never;

/** x as a leaf, y = x * c (optionally transposed: a strided view), and the seed r in y's shape. */
function setup(p: Problem) {
  const rows = (v: number[]) =>
    Array.from({ length: p.rows }, (_, i) => v.slice(i * p.cols, (i + 1) * p.cols));
  const x = tensor(rows(p.x), { ...f64, requiresGrad: true });
  const y0 = mul(x, p.c);
  const y = p.transposed ? transpose(y0, 0, 1) : y0;
  if (p.transposed) y0.dispose();
  const r0 = tensor(rows(p.r), f64);
  const r = p.transposed ? tidy(() => transpose(r0, 0, 1).contiguous()) : r0;
  if (p.transposed) r0.dispose();
  return { x, y, r };
}

describe('tensor handles', () => {
  it('detach(): same values and view, its own hold, no gradient through it', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const before = memory().tensors;
        const { x, y, r } = setup(p);
        const d = y.detach();
        expect(d).not.toBe(y);
        expect([d.shape, d.strides, d.offset]).toEqual([y.shape, y.strides, y.offset]);
        expect(d.storage).toBe(y.storage);
        expect(d.requiresGrad).toBe(false);
        expect(d.isLeaf).toBe(true);
        const values = arr(y);
        y.dispose();
        expect(arr(d)).toEqual(values); // the detached handle keeps the storage alive
        // x * 1 + d ⊙ r: only the first term reaches x.
        const loss = tidy(() => sum(mul(x, 1)));
        const unrelated = tidy(() => sum(mul(d, r)));
        unrelated.dispose();
        loss.backward();
        expect(arr(x.grad!)).toEqual(p.x.map(() => 1));
        for (const t of [x, d, r, loss]) t.dispose();
        expect(memory().tensors).toBe(before);
      }),
      { numRuns: 40 },
    );
  });

  it('handle(): same values and view, its own hold, gradients reach the op that made the original', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const before = memory().tensors;
        const { x, y, r } = setup(p);
        const h = y.handle();
        expect(h).not.toBe(y);
        expect([h.shape, h.strides, h.offset]).toEqual([y.shape, y.strides, y.offset]);
        expect(h.requiresGrad).toBe(true);
        const values = arr(y);
        y.dispose(); // the handle outlives the original (a recurrent state past its tidy)
        expect(arr(h)).toEqual(values);
        const loss = tidy(() => sum(mul(h, r)));
        loss.backward();
        // d/dx sum(view(x c) ⊙ r) = c r in x's layout (r was laid out in x's layout, then viewed like y).
        // + 0: the sign of a zero product is not part of the contract.
        expect(arr(x.grad!).map((v) => v + 0)).toEqual(p.r.map((v) => p.c * v + 0));
        for (const t of [x, h, r, loss]) t.dispose();
        expect(memory().tensors).toBe(before);
      }),
      { numRuns: 40 },
    );
  });

  it("a leaf's handle is detached: the leaf's gradient lands in its own .grad only", () => {
    const w = tensor([1, 2, 3], { ...f64, requiresGrad: true });
    const h = w.handle();
    expect(h.requiresGrad).toBe(false);
    expect(arr(h)).toEqual([1, 2, 3]);
    w.dispose();
    h.dispose();
  });

  it('to() onto the same device is such a handle: in the graph, or a leaf with its requiresGrad', async () => {
    for (const move of [(t: Tensor) => to(t, 'cpu'), (t: Tensor) => toAsync(t, 'cpu')]) {
      const w = tensor([1, 2, 3], { ...f64, requiresGrad: true });
      const y = mul(w, 3);
      const moved = await move(y);
      expect(moved).not.toBe(y);
      const loss = tidy(() => sum(mul(moved, tensor([1, 10, 100], f64))));
      loss.backward();
      expect(arr(w.grad!)).toEqual([3, 30, 300]);
      const leaf = await move(w);
      expect([leaf.requiresGrad, leaf.isLeaf, arr(leaf)]).toEqual([true, true, [1, 2, 3]]);
      for (const t of [w, y, moved, loss, leaf]) t.dispose();
    }
  });

  it('both refuse a disposed tensor, naming the method', () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => t.detach()).toThrow(/detach/);
    expect(() => t.handle()).toThrow(/detach|handle/);
  });
});
