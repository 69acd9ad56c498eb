import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, WebrnnError, memory, tensor } from '@webrnn/core';
import { runs } from './helpers/arb.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * Edges of the elementwise ops that the op tables do not reach (found by mutation testing, README "Mutation
 * testing"): the clamp/hardtanh gradient exactly at the bounds, what an op keeps for backward (and so which in-place
 * writes it must refuse), the scalar operands it makes and frees, the names in its refusals, and in-place writes
 * into strided targets. References are plain float64 arithmetic.
 */
const f64 = (values: readonly number[], requiresGrad = false) =>
  tensor(values, { dtype: 'float64', requiresGrad });
const list = (t: Tensor) => Array.from(t.dataSync());
const gpu = await webgpuForFile('elementwiseEdges');

describe('clamp and hardtanh at their bounds', () => {
  // x drawn around [min, max], with values exactly at the bounds, as a bounded activation sees them.
  const boundsAndX = fc
    .tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: 0, max: 3 }))
    .chain(([min, width]) =>
      fc.record({
        min: fc.constant(min),
        max: fc.constant(min + width),
        x: fc.array(
          fc.oneof(fc.constantFrom(min, min + width), fc.integer({ min: min - 2, max: min + width + 2 })),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
      }),
    );

  it('clamp passes the gradient on [min, max], bounds included (PyTorch); hardtanh only inside (Torch)', () => {
    fc.assert(
      fc.property(boundsAndX, ({ min, max, x }) => {
        for (const [op, inside] of [
          [core.clamp, (v: number) => v >= min && v <= max],
          [core.hardtanh, (v: number) => v > min && v < max],
        ] as const) {
          const xt = f64(x, true);
          const y = op(xt, min, max);
          expect(list(y)).toEqual(x.map((v) => Math.min(max, Math.max(min, v))));
          y.sum().backward();
          expect(list(xt.grad!)).toEqual(x.map((v) => (inside(v) ? 1 : 0)));
        }
      }),
      runs(40),
    );
  });

  it('min === max is a valid range (every value becomes it); min > max and NaN bounds are refused', () => {
    const x = f64([-3, 0, 2, 5]);
    expect(list(core.clamp(x, 2, 2))).toEqual([2, 2, 2, 2]);
    expect(list(core.hardtanh(x, -1, -1))).toEqual([-1, -1, -1, -1]);
    expect(() => core.clamp(x, 2.5, 2)).toThrow(/^clamp: needs min <= max, got min 2.5 and max 2/);
    expect(() => core.hardtanh(x, Number.NaN, 1)).toThrow(/^hardtanh: needs min <= max/);
  });
});

describe('what an op keeps for backward', () => {
  // PyTorch: neg, add and sub need no input for their gradient, so writing into one after the op is allowed.
  it('ops whose gradient needs no value allow in-place writes into their inputs and outputs afterwards', () => {
    for (const [build, dx] of [
      [(a: Tensor, _b: Tensor) => core.neg(a), -2],
      [(a: Tensor, b: Tensor) => core.add(a, b), 2],
      [(a: Tensor, b: Tensor) => core.sub(a, b), 2],
    ] as const) {
      const x = f64([1, -2, 3], true);
      const a = core.mul(x, 2); // not a leaf: in-place writes into it are allowed
      const y = build(a, f64([4, 5, 6]));
      a.add_(10);
      y.add_(1);
      y.sum().backward();
      expect(list(x.grad!)).toEqual([dx, dx, dx]);
    }
  });

  it('sign and step carry no gradient: their result does not require grad, and relu (whose gradient is step) does', () => {
    const x = f64([-1.5, 0, 2], true);
    for (const op of [core.sign, core.step]) {
      const y = op(x);
      expect(y.requiresGrad).toBe(false);
      expect(() => y.sum().backward()).toThrow(WebrnnError);
    }
    core.relu(x).sum().backward();
    expect(list(x.grad!)).toEqual([0, 0, 1]);
  });

  it('ops whose gradient needs a value refuse a backward after it was written in place, naming the op', () => {
    const x = f64([1, -2, 3], true);
    const a = core.mul(x, 2);
    const y = core.mul(a, f64([4, 5, 6]));
    a.add_(1);
    expect(() => y.sum().backward()).toThrow(/saved by 'mul' was modified in place/);
  });

  it("a second backward through a freed graph names the op at its root ('affine', 'where')", () => {
    const x = f64([1, 2], true);
    const scaled = core.mul(x, 3);
    scaled.backward(f64([1, 1]));
    expect(() => scaled.backward(f64([1, 1]))).toThrow(/the graph through 'affine' was already freed/);
    const picked = core.where(f64([1, 0]), x, 0);
    picked.backward(f64([1, 1]));
    expect(() => picked.backward(f64([1, 1]))).toThrow(/the graph through 'where' was already freed/);
  });
});

describe('scalar operands', () => {
  // Each op below turns its number into a 0-d tensor for the kernel: it must be freed, leaving only the result.
  const ops: [string, (x: Tensor) => Tensor][] = [
    ['gt', (x) => core.gt(x, 0.5)],
    ['ge', (x) => core.ge(x, 0.5)],
    ['lt', (x) => core.lt(x, 0.5)],
    ['le', (x) => core.le(x, 0.5)],
    ['eq', (x) => core.eq(x, 0.5)],
    ['maximum', (x) => core.maximum(x, 0.5)],
    ['minimum', (x) => core.minimum(x, 0.5)],
    ['pow', (x) => core.pow(x, 3)],
    ['where', (x) => core.where(x, x, 0.5)],
    ['where (both numbers but one)', (x) => core.where(x, 1, x)],
  ];
  it.each(ops)('%s frees the scalar tensor it made', (_name, op) => {
    const x = f64([0, 1, 2]);
    const before = memory().tensors;
    const y = op(x);
    expect(memory().tensors).toBe(before + 1);
    y.dispose();
    x.dispose();
  });

  it('in-place ops with a number free theirs too and write the right values', () => {
    const x = f64([1, 2, 3]);
    const before = memory().tensors;
    x.add_(2).mul_(3).sub_(1).div_(2);
    expect(memory().tensors).toBe(before);
    expect(list(x)).toEqual([1, 2, 3].map((v) => ((v + 2) * 3 - 1) / 2));
  });
});

describe('refusals name the op and the argument', () => {
  const notTensors: unknown[] = [undefined, null, 3, [1, 2], { shape: [1] }];
  const cases: [string, string, (v: never) => unknown][] = [
    ['add', 'a', (v) => core.add(v, 1)],
    ['sub', 'a', (v) => core.sub(v, 1)],
    ['mul', 'a', (v) => core.mul(v, 1)],
    ['div', 'a', (v) => core.div(v, 2)],
    ['gt', 'a', (v) => core.gt(v, 2)],
    ['where', 'cond', (v) => core.where(v, f64([1]), 0)],
    ['add_', 'target', (v) => core.addInPlace(v, 1)],
    ['fill_', 'target', (v) => core.fillInPlace(v, 1)],
  ];
  it.each(cases)('%s: argument %s that is not a Tensor', (op, arg, call) => {
    for (const v of notTensors) {
      expect(() => call(v as never)).toThrow(WebrnnError);
      expect(() => call(v as never)).toThrow(new RegExp(`^${op}: argument ${arg} is .*, expected a Tensor`));
    }
  });

  it.skipIf(!gpu)('where refuses a condition on another device than its values, naming itself', () => {
    const cond = tensor([1, 0]);
    const a = tensor([1, 2], { device: 'webgpu' });
    expect(() => core.where(cond, a, a)).toThrow(
      /^where: tensors are on different devices \(cpu and webgpu\)/,
    );
  });

  it('int32 operands out of the int32 range or fractional are refused by the op that got them', () => {
    const i = tensor([1, 2, 3], { dtype: 'int32' });
    expect(() => core.div(i, 2 ** 40)).toThrow(
      /^div: an int32 tensor can only be combined with an integer in/,
    );
    expect(() => core.where(tensor([1, 0, 1], { dtype: 'int32' }), i, 2 ** 40)).toThrow(
      /^where: an int32 tensor/,
    );
    expect(() => core.fillInPlace(i, 1.5)).toThrow(/^fill_: .*the fill value/);
    // Float tensors take any fill value.
    for (const v of [0.5, -1e-300, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(list(core.fillInPlace(f64([1, 2]), v))).toEqual([v, v]);
    }
  });
});

describe('in-place writes into strided targets', () => {
  // A target that is a transposed or narrowed view of a larger tensor: only its own elements change.
  const caseArb = fc.record({
    rows: fc.integer({ min: 2, max: 5 }),
    cols: fc.integer({ min: 2, max: 5 }),
    view: fc.constantFrom('transposed', 'narrowed', 'column'),
    op: fc.constantFrom('add', 'sub', 'mul', 'div'),
    seed: fc.integer({ min: 1, max: 1000 }),
  });
  const apply = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b } as Record<
    string,
    (a: number, b: number) => number
  >;
  apply.mul = (a, b) => a * b;
  apply.div = (a, b) => a / b;

  it('add_/sub_/mul_/div_ write each element of the view once, from the float64 reference', () => {
    fc.assert(
      fc.property(caseArb, ({ rows, cols, view, op, seed }) => {
        const n = rows * cols;
        const base = Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 11) - 5 + 0.25);
        const t = tensor(base, { dtype: 'float64', shape: [rows, cols] });
        // Element (r, c) of the view is element at[r][c] of the base.
        let target: Tensor;
        let at: number[][];
        if (view === 'transposed') {
          target = t.permute([1, 0]);
          at = Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => r * cols + c));
        } else if (view === 'narrowed') {
          target = t.narrow(1, 1, cols - 1);
          at = Array.from({ length: rows }, (_, r) =>
            Array.from({ length: cols - 1 }, (_, c) => r * cols + c + 1),
          );
        } else {
          target = t.narrow(1, cols - 1, 1);
          at = Array.from({ length: rows }, (_, r) => [r * cols + cols - 1]);
        }
        expect(target.isContiguous).toBe(false);
        const [vr, vc] = target.shape as [number, number];
        const src = Array.from({ length: vc }, (_, c) => c + 1.5 + (seed % 3));
        const expected = [...base];
        for (let r = 0; r < vr; r++) {
          for (let c = 0; c < vc; c++) expected[at[r]![c]!] = apply[op]!(base[at[r]![c]!]!, src[c]!);
        }
        const s = tensor(src, { dtype: 'float64', shape: [vc] });
        const before = memory().tensors;
        core.binaryInPlace(op, target, s);
        expect(memory().tensors).toBe(before);
        expect(list(t)).toEqual(expected);
      }),
      runs(60),
    );
  });
});

describe('in-place writes whose source shares memory with the target', () => {
  const square = (n: number) =>
    tensor(
      Array.from({ length: n * n }, (_, i) => i + 1),
      { dtype: 'float64', shape: [n, n] },
    );

  it('a source that shares some elements with the target is refused, as PyTorch does; nothing is written', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.constantFrom('add_', 'sub_', 'mul_', 'div_', 'copy_'),
        (n, op) => {
          const x = square(n);
          const before = list(x);
          const call = (target: Tensor, source: Tensor) =>
            (target as unknown as Record<string, (s: Tensor) => Tensor>)[op]!.call(target, source);
          // Transposed, one row broadcast over all, and shifted by one element.
          for (const [target, source] of [
            [x, x.t()],
            [x, x.select(0, n - 1)],
            [x.reshape([n * n]).narrow(0, 1, n * n - 1), x.reshape([n * n]).narrow(0, 0, n * n - 1)],
          ] as const) {
            expect(() => call(target, source)).toThrow(
              new RegExp(
                `^${op.replace('_', '\\_')}: the source \\(shape .*\\) shares memory with the target`,
              ),
            );
          }
          expect(list(x)).toEqual(before);
        },
      ),
      runs(20),
    );
  });

  it('a dim of size 1 with stride 0 is no expansion: writing into it is allowed', () => {
    const x = core.zeros([], { dtype: 'float64' }).expand([1, 1]);
    expect(x.strides).toEqual([0, 0]);
    x.add_(2);
    x.copy_(f64([3]).reshape([1, 1]));
    expect(list(x)).toEqual([3]);
  });

  it('the identical view, and views of one storage that share no element, are written as usual', () => {
    const n = 4;
    const x = square(n);
    const xs = list(x);
    x.t().add_(x.t());
    expect(list(x)).toEqual(xs.map((v) => 2 * v));
    // Column 0 and column 1 interleave in memory but share no element.
    const y = square(n);
    const ys = list(y);
    y.select(1, 0).add_(y.select(1, 1));
    expect(list(y)).toEqual(ys.map((v, i) => (i % n === 0 ? v + ys[i + 1]! : v)));
    // The two halves of a row-major tensor, the top one written from the bottom one.
    const z = square(n);
    const zs = list(z);
    z.narrow(0, 0, 2).copy_(z.narrow(0, 2, 2));
    expect(list(z)).toEqual([...zs.slice(8), ...zs.slice(8)]);
  });
});
