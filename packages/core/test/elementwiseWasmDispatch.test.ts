import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { CpuBackend, type View, setCpuWasm } from '@webrnn/core';
import { elementwiseModule, elementwiseWasm } from '../src/backends/cpu/wasm/elementwiseModule.js';
import {
  WASM_MIN,
  elementwiseKernel,
  elementwiseWasmRuns,
} from '../src/backends/cpu/wasm/elementwiseWasm.js';
import { packedCacheStats } from '../src/backends/cpu/wasm/packedCache.js';
import { formulaExpr } from '../src/backends/cpu/formulaExpr.js';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { realIn } from './helpers/reals.js';

/**
 * Where the CPU backend runs an elementwise op in wasm (elementwiseWasm.ts) and where it keeps the JS loop: the
 * size thresholds of WASM_MIN, float32 only, contiguous views only, never for an output that overlaps an input at
 * another offset, not when switched off, not for ops outside the table. Each case checks both which path ran
 * (elementwiseWasmRuns) and that the values are the JS loop's. Then float32 gradients with the wasm kernels in
 * the forward and backward passes, and the formula reader's refusals.
 */
const simd = wasmFeatures().simd;
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const cpu = new CpuBackend();
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq']);
const PARAMS: Record<string, number[]> = { clamp: [-0.5, 0.5], affine: [0.5, 2] };

type Arr = Float32Array | Float64Array | Int32Array;
const view = (buffer: Arr, shape: number[], strides: number[], offset = 0): View => ({
  buffer,
  dtype: buffer instanceof Float32Array ? 'float32' : buffer instanceof Float64Array ? 'float64' : 'int32',
  shape,
  strides,
  offset,
});

/** Runs `op` with `x` (and `y`) into `out`; returns whether it ran in wasm. */
function runs(op: string, out: View, x: View, y?: View): boolean {
  const before = elementwiseWasmRuns();
  if (BINARY.has(op)) cpu.binary(op as never, { a: x, b: y ?? x, out });
  else cpu.unary({ op: op as never, ...(PARAMS[op] ? { params: PARAMS[op] } : {}) }, { x, out });
  return elementwiseWasmRuns() > before;
}

const values = (n: number, T: new (n: number) => Arr = Float32Array) => {
  const a = new T(n);
  for (let i = 0; i < n; i++) a[i] = ((i * 7919) % 997) / 97 - 5 + (T === Int32Array ? 0 : 0.25);
  return a;
};

/** The vectorised functions are within a few ulps (elementwiseWasm.test.ts bounds them); the rest exact. */
const INEXACT = new Set(['exp', 'log', 'tanh', 'sigmoid']);
const close = (op: string, js: number, wasm: number) =>
  Object.is(js, wasm) || (INEXACT.has(op) && Math.abs(js - wasm) <= 2 ** -20 * Math.abs(js));

const asF64 = (v: View): View => ({ ...v, buffer: Float64Array.from(v.buffer as Arr), dtype: 'float64' });

/**
 * The op on copies of the operands with wasm on and off: [ran in wasm, outputs equal (bit for bit if exact)]. The
 * JS run is itself checked against the float64 run rounded (so that a path that wrote nothing cannot pass).
 */
function both(
  op: string,
  make: () => { out: View; x: View; y?: View },
  cascades = false,
): [boolean, boolean] {
  const ref = make();
  const ref64 = { out: asF64(ref.out), x: asF64(ref.x), ...(ref.y ? { y: asF64(ref.y) } : {}) };
  runs(op, ref64.out, ref64.x, ref64.y);
  const results: Arr[] = [];
  let ran = false;
  for (const mode of ['off', 'on'] as const) {
    setCpuWasm(mode);
    const { out, x, y } = make();
    const r = runs(op, out, x, y);
    if (mode === 'on') ran = r;
    else expect(r).toBe(false);
    results.push(out.buffer as Arr);
  }
  const [js, wasm] = results as [Arr, Arr];
  const exact = ref64.out.buffer as Float64Array;
  // The float64 run has its own copy of each operand: unlike the float32 runs, it never reads what it wrote, which
  // matters only for an output overlapping an input at another offset (the JS loop then cascades).
  if (!cascades) expect(js.every((v, i) => Object.is(v, Math.fround(exact[i]!)))).toBe(true);
  return [ran, js.length === wasm.length && js.every((v, i) => close(op, v, wasm[i]!))];
}

describe.skipIf(!simd)('which path an elementwise op takes on the CPU backend', () => {
  afterEach(() => setCpuWasm('auto'));

  it('wasm from WASM_MIN elements of contiguous float32 on, JS one below, same values either way', () => {
    for (const [op, min] of Object.entries(WASM_MIN)) {
      for (const [n, want] of [
        [min, true],
        [min - 1, false],
      ] as const) {
        const make = () => ({
          out: view(new Float32Array(n + 2), [n], [1], 2),
          x: view(values(n + 1), [n], [1], 1),
          y: view(values(n).reverse(), [n], [1]),
        });
        expect([op, n, ...both(op, make)]).toEqual([op, n, want, true]);
      }
    }
  });

  it('in 2-D and at offsets when every view is contiguous; in place at the same offset', () => {
    const make = () => ({
      out: view(new Float32Array(8 * 40 + 3), [8, 40], [40, 1], 3),
      x: view(values(8 * 40 + 5), [8, 40], [40, 1], 5),
    });
    expect(both('tanh', make)).toEqual([true, true]);
    const inPlace = () => {
      const b = values(300);
      return { out: view(b, [299], [1], 1), x: view(b, [299], [1], 1), y: view(values(299), [299], [1]) };
    };
    expect(both('mul', inPlace)).toEqual([true, true]);
    expect(both('exp', inPlace)).toEqual([true, true]);
  });

  it('JS for strided, transposed and broadcast views, and an output overlapping an input elsewhere', () => {
    const strided = () => ({
      out: view(new Float32Array(500), [500], [1]),
      x: view(values(1000), [500], [2]),
    });
    const transposed = () => ({
      out: view(new Float32Array(600), [20, 30], [30, 1]),
      x: view(values(600), [20, 30], [1, 20]),
    });
    const broadcast = () => ({
      out: view(new Float32Array(600), [20, 30], [30, 1]),
      x: view(values(30), [20, 30], [0, 1]),
      y: view(values(600), [20, 30], [30, 1]),
    });
    const shifted = () => {
      const b = values(601);
      return { out: view(b, [600], [1], 1), x: view(b, [600], [1], 0), y: view(values(600), [600], [1]) };
    };
    for (const op of ['exp', 'sigmoid', 'add', 'max']) {
      for (const [name, make] of Object.entries({ strided, transposed, broadcast, shifted })) {
        expect([op, name, ...both(op, make, name === 'shifted')]).toEqual([op, name, false, true]);
      }
    }
  });

  it('JS for float64 and int32, when switched off, and for affine, cos, sin, pow, where, copy and fill', () => {
    const n = 1000;
    setCpuWasm('on');
    const x64 = values(n, Float64Array);
    const out64 = new Float64Array(n);
    expect(runs('exp', view(out64, [n], [1]), view(x64, [n], [1]))).toBe(false);
    expect(out64.every((v, i) => v === Math.exp(x64[i]!))).toBe(true);
    const i32 = values(n, Int32Array);
    const outI = new Int32Array(n);
    expect(runs('add', view(outI, [n], [1]), view(i32, [n], [1]))).toBe(false);
    expect(outI.every((v, i) => v === 2 * i32[i]!)).toBe(true);
    // Mixed dtypes are not calls the ops make, but the check is on every operand, the output too.
    const out32 = new Float32Array(n);
    expect(runs('add', view(out32, [n], [1]), view(x64, [n], [1]))).toBe(false);
    expect(out32.every((v, i) => v === Math.fround(2 * x64[i]!))).toBe(true);
    const x32 = values(n);
    expect(runs('exp', view(out64, [n], [1]), view(x32, [n], [1]))).toBe(false);
    expect(out64.every((v, i) => v === Math.exp(x32[i]!))).toBe(true);
    const f32 = () => [view(new Float32Array(n), [n], [1]), view(values(n), [n], [1])] as const;
    for (const op of ['affine', 'cos', 'sin']) expect([op, runs(op, ...f32())]).toEqual([op, false]);
    const before = elementwiseWasmRuns();
    const [out, x] = f32();
    cpu.binary('pow', { a: x, b: x, out });
    cpu.where({ cond: x, a: x, b: x, out });
    cpu.copy({ x, out });
    cpu.fill({ out }, 3);
    expect(elementwiseWasmRuns()).toBe(before);
    // An op given a threshold but not vectorised (pow calls Math.pow) stays in JS all the same.
    WASM_MIN.pow = 0;
    try {
      const [o, b] = f32();
      const before = elementwiseWasmRuns();
      cpu.binary('pow', { a: b, b, out: o });
      expect(elementwiseWasmRuns()).toBe(before);
      const [xs, got] = [b.buffer as Float32Array, o.buffer as Float32Array];
      expect(got.every((v, i) => Object.is(v, Math.fround(xs[i]! ** xs[i]!)))).toBe(true);
    } finally {
      delete WASM_MIN.pow;
    }
    setCpuWasm('off');
    expect(runs('exp', ...f32())).toBe(false);
    setCpuWasm('auto');
    expect(runs('exp', ...f32())).toBe(true);
  });

  it('leaves the packed-weight cache below its scratch intact, and compiles each formula once', () => {
    const w = core.tensor(values(64 * 64), { shape: [64, 64] });
    const x = core.tensor(values(8 * 64).reverse(), { shape: [8, 64] });
    // The weight's second product caches it (packedCache.ts): the scratch then starts above it.
    const products = [0, 1, 2].map(() => core.matmul(x, w));
    expect(packedCacheStats().entries).toBeGreaterThan(0);
    const big = core.tensor(values(20000));
    const sum = core.add(big, big);
    const vs = values(20000);
    expect(Array.from(sum.dataSync())).toEqual(Array.from(vs, (v) => 2 * v));
    const rows = core.tensor(values(20 * 64), { shape: [20, 64] });
    const soft = core.softmax(rows);
    const row0 = Array.from(values(64));
    const m = Math.max(...row0);
    const s0 = row0.reduce((a, v) => a + Math.exp(v - m), 0);
    Array.from(soft.dataSync().subarray(0, 64)).forEach((v, j) => {
      expect(Math.abs(v - Math.exp(row0[j]! - m) / s0)).toBeLessThan(1e-6);
    });
    for (const t of [core.exp(big), sum, rows, soft]) t.dispose();
    const after = core.matmul(x, w);
    expect(Array.from(after.dataSync())).toEqual(Array.from(products[2]!.dataSync()));
    for (const t of [w, x, big, after, ...products]) t.dispose();
    expect(elementwiseKernel('Math.exp(x)', ['x'])).toBe(elementwiseKernel('Math.exp(x)', ['x']));
  });

  it('through the ops: exp of a float32 tensor of 100 elements runs in wasm, of 10 in JS', () => {
    for (const [n, want] of [
      [100, 1],
      [10, 0],
    ] as const) {
      const before = elementwiseWasmRuns();
      core.exp(core.tensor(values(n))).dispose();
      expect(elementwiseWasmRuns() - before).toBe(want);
    }
  });
});

describe.skipIf(!simd)('float32 gradients with the wasm kernels forward and backward', () => {
  afterEach(() => setCpuWasm('auto'));
  const U = 2 ** -24;
  /**
   * d/dx sum(f(x) r) in float32 (wasm on, 300 elements: every kernel of the forward and backward passes over
   * its threshold) against the float64 CPU backend (JS loops) on the same values. Bound, derived: the forward
   * value within 5 ulps (10 u relative, the largest of elementwiseWasm.test's bounds), carried by each backward
   * formula with a factor at most 2 (tanh: 1 - y^2, sigmoid: y (1 - y), exp: y, sqrt: 0.5 / y, log: 1 / x), up to
   * 4 roundings in the backward formulas and the product with r, and near saturation an absolute error of the
   * same size on a derivative near 0: 32 u |r| (|f'(x)| + 1); where the products underflow (r is sometimes
   * subnormal), an absolute 2^-149 per rounding, carried the same way: 4 2^-149 (|f'(x)| + 1).
   */
  const OPS: Record<string, [(x: core.Tensor) => core.Tensor, (x: number) => number, number, number]> = {
    exp: [core.exp, Math.exp, -20, 20],
    log: [core.log, (x) => 1 / x, 1e-3, 1e3],
    tanh: [core.tanh, (x) => 1 - Math.tanh(x) ** 2, -10, 10],
    sigmoid: [core.sigmoid, (x) => Math.exp(-Math.abs(x)) / (1 + Math.exp(-Math.abs(x))) ** 2, -30, 30],
    sqrt: [core.sqrt, (x) => 0.5 / Math.sqrt(x), 1e-3, 1e3],
  };
  for (const [name, [f, df, lo, hi]] of Object.entries(OPS)) {
    it(`${name}`, () => {
      fc.assert(
        fc.property(
          fc.array(realIn(lo, hi, { f32: true }), { minLength: 300, maxLength: 300 }),
          fc.array(realIn(-2, 2, { f32: true }), { minLength: 300, maxLength: 300 }),
          (xs, rs) => {
            const grad = (dtype: 'float32' | 'float64') => {
              const x = core.tensor(xs, { dtype, requiresGrad: true });
              const r = core.tensor(rs, { dtype });
              core.sum(core.mul(f(x), r)).backward();
              const g = Array.from(x.grad!.dataSync());
              x.dispose();
              r.dispose();
              return g;
            };
            setCpuWasm('on');
            const before = elementwiseWasmRuns();
            const g32 = grad('float32');
            // the forward op and at least one kernel of its backward formula ran in wasm
            expect(elementwiseWasmRuns() - before).toBeGreaterThanOrEqual(2);
            const g64 = grad('float64');
            g32.forEach((g, i) => {
              const bound = (32 * U * Math.abs(rs[i]!) + 4 * 2 ** -149) * (Math.abs(df(xs[i]!)) + 1);
              if (!(Math.abs(g - g64[i]!) <= bound)) {
                throw new Error(`${name}'(${xs[i]}) * ${rs[i]}: ${g} in float32, ${g64[i]} in float64`);
              }
            });
          },
        ),
        { numRuns: 10, seed: SEED },
      );
    });
  }
});

describe('the formula reader and the generator refuse what the table never holds', () => {
  it('formulaExpr: unknown names, unbalanced parentheses, trailing tokens, an unfinished formula', () => {
    expect(() => formulaExpr('y + 1', ['x'])).toThrow("unknown name 'y'");
    expect(() => formulaExpr('(x + 1', ['x'])).toThrow("expected ')'");
    expect(() => formulaExpr('Math.exp(x', ['x'])).toThrow("expected ')'");
    expect(() => formulaExpr('x ? 1 2', ['x'])).toThrow("expected ':'");
    expect(() => formulaExpr('x 1', ['x'])).toThrow("unexpected token at token 1 ('1')");
    expect(() => formulaExpr('x +', ['x'])).toThrow("unexpected end at token 3 ('end')");
  });

  it('formulaExpr: whitespace anywhere, only the known Math functions as calls, any variable name as a variable', () => {
    const plain = JSON.stringify(formulaExpr('x+1', ['x']));
    for (const spaced of ['  x + 1', 'x + 1   ', '\tx\n+ 1 \n ']) {
      expect(JSON.stringify(formulaExpr(spaced, ['x']))).toBe(plain);
    }
    expect(() => formulaExpr('x + 1 @', ['x'])).toThrow("cannot read from '@'");
    expect(() => formulaExpr('Math.random()', ['x'])).toThrow("unknown name 'Math.random'");
    // A name that merely ends like a Math function (after five characters) is a variable, not a call.
    expect(formulaExpr('inputexp * 2', ['inputexp'])).toEqual({
      k: 'bin',
      op: '*',
      a: { k: 'var', name: 'inputexp' },
      b: { k: 'num', value: 2 },
    });
  });

  it('formulaExpr: precedence and associativity as JavaScript', () => {
    const shape = (s: string) => JSON.stringify(formulaExpr(s, ['a', 'b']));
    expect(shape('a - b - 1')).toBe(shape('(a - b) - 1'));
    expect(shape('a + b * 2')).toBe(shape('a + (b * 2)'));
    expect(shape('a < b || a === b && b > 0')).toBe(shape('(a < b) || ((a === b) && (b > 0))'));
    expect(shape('-a * b')).toBe(shape('(-a) * b'));
    expect(shape('a ? b : a ? 1 : 2')).toBe(shape('a ? b : (a ? 1 : 2)'));
    expect(formulaExpr('Math.pow(a, Infinity)', ['a', 'b'])).toEqual({
      k: 'call',
      fn: 'pow',
      args: [
        { k: 'var', name: 'a' },
        { k: 'num', value: Number.POSITIVE_INFINITY },
      ],
    });
  });

  it('elementwiseWasm: null for unvectorised functions, integer operators, conditions mixed with numbers', () => {
    for (const expr of [
      'Math.cos(x)',
      'Math.pow(x, x)',
      'Math.trunc(x)',
      '(x | 0)',
      '(x > 0) + 1',
      '(x ? 1 : 0)',
      '(x > 0 ? x > 1 : 0)',
      '(x > 0 && x)',
      'Math.exp(x, x)',
      '((x > 0) | (x < 1)) ? 1 : 0',
    ]) {
      expect([expr, elementwiseWasm(expr, ['x'])]).toEqual([expr, null]);
    }
    expect(elementwiseWasm('(x > 0 ? x > 1 : x < -1) ? 1 : 0', ['x'])).not.toBeNull();
    expect(() => elementwiseWasm('z', ['x'])).toThrow("unknown name 'z'");
    // A call repeated in a formula is computed once (sigmoid's formula has Math.exp(x) twice): the second costs a
    // few bytes, not exp's code again.
    const size = (e: string) =>
      elementwiseModule(elementwiseWasm(e, ['x'])!, { maximum: 1, shared: false }).length;
    expect(size('Math.exp(x) + Math.exp(x)') - size('Math.exp(x)')).toBeLessThan(8);
    expect(size('Math.exp(x) + Math.exp(-x)') - size('Math.exp(x)')).toBeGreaterThan(100);
  });
});
