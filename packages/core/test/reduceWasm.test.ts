import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { CpuBackend, type View, setCpuWasm } from '@webrnn/core';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { WASM_MIN_REDUCE, reduceKernels, reduceWasmRuns } from '../src/backends/cpu/wasm/reduceWasm.js';
import { realIn } from './helpers/reals.js';

/**
 * Sum, max, min, argmax and argmin of float32 rows in wasm SIMD (reduceWasm.ts) against the CPU backend's JS loop (wasm off):
 * rows 1..5 of 0..70 elements (every f32x4 tail) at offsets, whole-tensor reductions, one long row past a chunk.
 *
 * max, min, argmax, argmin: bit for bit (Object.is: NaN, -0 and +0, the first index, as the JS loop's scan).
 * sum: both paths add the float32 values in float64 and round once to float32; wasm in another order. Each float64
 * sum of n terms is within g = (n - 1) u / (1 - (n - 1) u) sum |x_i| of the exact sum (u = 2^-53), so the two are
 * within 2g; two numbers within d round to float32 values within d + 1 ulp (half an ulp each, at the larger).
 * Hence: equal when the float64 sums cannot differ (2g = 0: at most one term), else within 2g + ulp32. mean is the
 * sum times 1/n rounded once: within 2g/n + ulp32.
 */
const simd = wasmFeatures().simd;
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const U64 = 2 ** -53;
const cpu = new CpuBackend();

type Op = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

const view = (buffer: Float32Array | Float64Array | Int32Array, shape: number[], offset: number): View => ({
  buffer,
  dtype: buffer instanceof Float32Array ? 'float32' : buffer instanceof Int32Array ? 'int32' : 'float64',
  shape,
  strides: shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1)),
  offset,
});

/** The float32 ulp at |v| (the spacing above it; 2^-149 below the normals). */
function ulp32(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (!Number.isFinite(a)) return Number.POSITIVE_INFINITY;
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** op of rows x n values, reduced over the last axis (or all axes: `whole`), in the mode given; outputs at an offset. */
function apply(op: Op, xs: number[], rows: number, n: number, off: number, whole: boolean) {
  const x = new Float32Array(off + xs.length + 3).fill(5);
  x.set(xs, off);
  // The arg ops' output is int32 (the indices), as the ops allocate it.
  const out = (op.startsWith('arg') ? new Int32Array(rows + 2) : new Float32Array(rows + 2)).fill(-7);
  const axes = whole ? [0, 1] : [1];
  cpu.reduce(op, { x: view(x, [rows, n], off), out: view(out, whole ? [1] : [rows], 1) }, axes);
  return out;
}

function check(op: Op, xs: number[], rows: number, n: number, off: number, whole = false): void {
  setCpuWasm('off');
  const js = apply(op, xs, rows, n, off, whole);
  setCpuWasm('on');
  const before = reduceWasmRuns();
  const got = apply(op, xs, rows, n, off, whole);
  expect(reduceWasmRuns() - before).toBe(rows * n > 0 && rows * n >= WASM_MIN_REDUCE.value ? 1 : 0);
  const outs = whole ? 1 : rows;
  expect([got[0], got[outs + 1]]).toEqual([-7, -7]); // nothing written around the output
  // Every output written (a path that claims the work without doing it would leave the -7s; the values drawn are
  // never exactly -7), by either path: the JS answer is not a reference for a change made before the mode is read.
  if (n > 0) for (let r = 1; r <= outs; r++) expect([got[r], js[r]]).not.toContain(-7);
  for (let r = 0; r < outs; r++) {
    const row = whole ? xs : xs.slice(r * n, (r + 1) * n);
    const [g, j] = [got[1 + r]!, js[1 + r]!];
    const why = () => `${op} of [${row}]: ${g} in wasm, ${j} in JS`;
    if (Object.is(g, j)) continue;
    if (op !== 'sum') throw new Error(why());
    const m = row.length;
    const gamma = ((m - 1) * U64) / (1 - (m - 1) * U64);
    const d = 2 * gamma * row.reduce((a, v) => a + Math.abs(v), 0);
    if (!(d > 0 && Math.abs(g - j) <= d + ulp32(Math.max(Math.abs(g), Math.abs(j))))) throw new Error(why());
  }
}

const valueArb = fc.oneof(
  { weight: 6, arbitrary: realIn(-8, 8, { f32: true }) },
  { weight: 2, arbitrary: realIn(-3e38, 3e38, { f32: true }) },
  { weight: 1, arbitrary: realIn(-1e-30, 1e-30, { f32: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149)) },
);

/** Values for max/min where zeros decide: mostly zeros of both signs, some negatives (max) and positives (min). */
const zerosArb = fc.constantFrom(0, -0, 0, -0, -1, 1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);

describe.skipIf(!simd)('sum, max, min, argmax and argmin rows in wasm against the JS loop', () => {
  const saved = WASM_MIN_REDUCE.value;
  afterEach(() => {
    WASM_MIN_REDUCE.value = saved;
    setCpuWasm('auto');
  });

  for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) {
    it(`${op}: rows 1..5 of 0..70 at offsets, by rows or whole, specials: ${op === 'sum' ? 'within the derived bound' : 'bit for bit'}`, () => {
      WASM_MIN_REDUCE.value = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 0, max: 70 }),
          fc.nat(5),
          fc.boolean(),
          fc.infiniteStream(op === 'sum' ? valueArb : fc.oneof(valueArb, zerosArb)),
          fc.constantFrom(0, 0, 1),
          (rows, n, off, whole, stream, specials) => {
            const xs = [...stream.take(rows * n)].map((v) =>
              specials || Number.isFinite(v) ? v : Math.fround(Math.sign(v) || 1),
            );
            // An empty axis: max and min refuse it at the op; the backend's JS loop gives -Inf / +Inf.
            check(op, xs, rows, n, off, whole);
          },
        ),
        { numRuns: 200, seed: SEED },
      );
    });

    it(`${op}: one row of 20003 and 300 rows of 65 (chunks), at the threshold`, () => {
      let s = 7;
      const rand = () => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return Math.fround(((s / 2147483648) * 16 - 8) * 2 ** ((s % 40) - 20));
      };
      check(op, Array.from({ length: 20003 }, rand), 1, 20003, 3);
      check(op, Array.from({ length: 300 * 65 }, rand), 300, 65, 1);
      const min = WASM_MIN_REDUCE.value;
      check(op, Array.from({ length: min }, rand), 1, min, 0);
      check(op, Array.from({ length: min - 1 }, rand), 1, min - 1, 0);
    });
  }

  it('the first of equal zeros, as the JS scan keeps it, whatever the lanes hold', () => {
    for (const op of ['max', 'min'] as const) {
      const other = op === 'max' ? -3 : 3;
      for (const zeros of [
        [0, -0],
        [-0, 0],
      ]) {
        const row = [other, ...zeros, other, other, ...zeros, other];
        check(op, row, 1, row.length, 0);
        check(op, [...row, ...row.reverse()], 2, row.length, 1);
      }
    }
  });

  it('rows after packed weights in the wasm memory (the scratch above them)', () => {
    // A float32 weight used twice is kept packed in the memory's first bytes (packedCache.ts): the reductions'
    // scratch starts above it.
    const w = core.randn([64, 256]);
    const a = core.randn([8, 64]);
    for (let i = 0; i < 3; i++) core.matmul(a, w).dispose();
    const xs = Array.from({ length: 5 * 37 }, (_, i) => Math.fround(Math.cos(i) * 7));
    for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) check(op, xs, 5, 37, 2);
    a.dispose();
    w.dispose();
  });

  it('the kernels are instantiated once', () => {
    expect(reduceKernels()).not.toBeNull();
    expect(reduceKernels()).toBe(reduceKernels());
  });

  it('JS for other axes, strides, float64 and wasm off: the JS answer', () => {
    const xs = Array.from({ length: 6 * 20 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
    const ran = (f: () => void) => {
      const before = reduceWasmRuns();
      f();
      return reduceWasmRuns() > before;
    };
    // An independent reference (a mode-independent change, made before the mode is read, would change the JS answer
    // too): the reduction of each group of values, sums in float64 (the float32 outputs round them once).
    const reference = (op: 'sum' | 'max' | 'min' | 'argmax', groups: number[][]) =>
      groups.map((g) =>
        op === 'sum'
          ? g.reduce((a, v) => a + v, 0)
          : op === 'max'
            ? Math.max(...g)
            : op === 'min'
              ? Math.min(...g)
              : g.indexOf(Math.max(...g)),
      );
    const rowsOf6 = Array.from({ length: 6 }, (_, r) => xs.slice(20 * r, 20 * r + 20));
    const colsOf6 = Array.from({ length: 20 }, (_, c) => rowsOf6.map((row) => row[c]!));
    const near = (got: ArrayLike<number>, want: number[]) =>
      want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThanOrEqual(Math.abs(w) * 2 ** -23));
    const both = (f: () => Float32Array | Float64Array, want: number[]) => {
      setCpuWasm('off');
      const js = f();
      near(js, want);
      setCpuWasm('on');
      let got: Float32Array | Float64Array | undefined;
      const wasm = ran(() => {
        got = f();
      });
      expect(Array.from(got!)).toEqual(Array.from(js));
      return wasm;
    };
    const x32 = Float32Array.from(xs);
    for (const op of ['sum', 'max', 'min', 'argmax'] as const) {
      // The leading axis of [6, 20]: strided rows.
      const lead = () => {
        const out = new Float32Array(20);
        cpu.reduce(op, { x: view(x32, [6, 20], 0), out: view(out, [20], 0) }, [0]);
        return out;
      };
      expect(both(lead, reference(op, colsOf6))).toBe(false);
      // A transposed view reduced over its last axis: not contiguous.
      const trans = () => {
        const out = new Float32Array(20);
        const x = { ...view(x32, [20, 6], 0), strides: [1, 20] };
        cpu.reduce(op, { x, out: view(out, [20], 0) }, [1]);
        return out;
      };
      expect(both(trans, reference(op, colsOf6))).toBe(false);
      // float64 rows.
      const f64 = () => {
        const out = new Float64Array(6);
        cpu.reduce(op, { x: view(Float64Array.from(xs), [6, 20], 0), out: view(out, [6], 0) }, [1]);
        return out;
      };
      expect(both(f64, reference(op, rowsOf6))).toBe(false);
      // The contiguous rows themselves run in wasm.
      const rows = () => {
        const out = new Float32Array(6);
        cpu.reduce(op, { x: view(x32, [6, 20], 0), out: view(out, [6], 0) }, [1]);
        return out;
      };
      expect(both(rows, reference(op, rowsOf6))).toBe(true);
    }
    setCpuWasm('off');
    expect(
      ran(() => cpu.reduce('sum', { x: view(x32, [6, 20], 0), out: view(new Float32Array(6), [6], 0) }, [1])),
    ).toBe(false);
  });

  it('core.sum, mean, max, min and argmax of a float32 tensor run in wasm (auto) within the bound of the JS path', () => {
    const data = Float32Array.from({ length: 4 * 33 }, (_, i) =>
      Math.fround(Math.cos(i) * 10 ** ((i % 9) - 4)),
    );
    const run = (f: (x: core.Tensor) => core.Tensor) => {
      const x = core.tensor(data, { shape: [4, 33] });
      const y = f(x);
      const out = Float32Array.from(y.dataSync() as Float32Array);
      x.dispose();
      y.dispose();
      return out;
    };
    const ops: [string, (x: core.Tensor) => core.Tensor][] = [
      ['sum', (x) => core.sum(x, -1)],
      ['mean', (x) => core.mean(x, -1)],
      ['max', (x) => core.max(x, -1)],
      ['min', (x) => core.min(x)],
      ['argmax', (x) => core.argmax(x, 1)],
    ];
    for (const [name, f] of ops) {
      setCpuWasm('off');
      const js = run(f);
      setCpuWasm('auto');
      const before = reduceWasmRuns();
      const got = run(f);
      expect(reduceWasmRuns() - before).toBe(1);
      for (let r = 0; r < js.length; r++) {
        const row = name === 'min' ? Array.from(data) : Array.from(data.subarray(r * 33, (r + 1) * 33));
        const m = row.length;
        const gamma = ((m - 1) * U64) / (1 - (m - 1) * U64);
        let d = 2 * gamma * row.reduce((a, v) => a + Math.abs(v), 0);
        if (name === 'mean') d /= m;
        const [g, j] = [got[r]!, js[r]!];
        const bounded = name === 'sum' || name === 'mean';
        const ok =
          Object.is(g, j) || (bounded && Math.abs(g - j) <= d + ulp32(Math.max(Math.abs(g), Math.abs(j))));
        if (!ok) throw new Error(`${name} row ${r}: ${g} in wasm, ${j} in JS`);
      }
    }
  });
});
