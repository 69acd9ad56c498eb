import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { CpuBackend, type View, setCpuWasm } from '@webrnn/core';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { WASM_MIN_SOFTMAX, softmaxKernels, softmaxWasmRuns } from '../src/backends/cpu/wasm/softmaxWasm.js';
import { realIn } from './helpers/reals.js';

/**
 * Softmax and log-softmax rows in wasm SIMD (softmaxWasm.ts) against the CPU backend's JS loop: in float64 as the
 * reference, in float32 for the special values (NaN rows, -Inf entries: the same bits) and for which path ran.
 * Rows 0..6 of 0..70 elements (every f32x4 tail, padded with -Inf), at offsets; one long row past a chunk.
 *
 * The bound is derived from the float32 steps (u = 2^-24, first order; d_i = |x_i - m|, w_i the exact softmax):
 * e^(x_i - m) is computed from x_i - m rounded (relative error u d_i) within exp's 3 ulps (6 u), the sum of the
 * terms in four lanes then across them adds (ceil(n / 4) + 3) u and carries the terms' errors weighted by w
 * (u sum w_j d_j + 6 u), so E_s = u (sum w_j d_j + 6 + ceil(n / 4) + 3); softmax: relative error
 * u d_i + 6 u + E_s + 2 u (1 / s and the product), plus 2^-148 absolute where it underflows; log-softmax: absolute
 * error E_s + 4 u |log s| (log's 2 ulps) + u |lse| + u |y_i| (the two roundings of m + log s and x_i - lse).
 */
const simd = wasmFeatures().simd;
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const U = 2 ** -24;
const cpu = new CpuBackend();

const rowsView = (buffer: Float32Array | Float64Array, rows: number, n: number, offset: number): View => ({
  buffer,
  dtype: buffer instanceof Float32Array ? 'float32' : 'float64',
  shape: [rows, n],
  strides: [n, 1],
  offset,
});

function apply(xs: number[], rows: number, n: number, log: boolean, f64: boolean, off: [number, number]) {
  const T = f64 ? Float64Array : Float32Array;
  const x = new T(off[0] + xs.length + 2).fill(3);
  x.set(xs, off[0]);
  const out = new T(off[1] + xs.length + 2).fill(-7);
  cpu.softmax({ x: rowsView(x, rows, n, off[0]), out: rowsView(out, rows, n, off[1]) }, log);
  return out;
}

/**
 * Fills the wasm scratch with large finite values (an elementwise add's chunks lie where softmax's rows go), so that
 * a row's padding that was not set to -Inf would show in its max.
 */
function dirtyScratch(): void {
  setCpuWasm('on');
  const n = 3 * 8192;
  const big = new Float32Array(n).fill(1e30);
  const v = { buffer: big, dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 };
  cpu.binary('add', { a: v, b: v, out: { ...v, buffer: new Float32Array(n) } });
}

function check(xs: number[], rows: number, n: number, log: boolean, off: [number, number]): void {
  dirtyScratch();
  setCpuWasm('off');
  const js = apply(xs, rows, n, log, false, off);
  const exact = apply(xs, rows, n, log, true, off);
  setCpuWasm('on');
  const before = softmaxWasmRuns();
  const got = apply(xs, rows, n, log, false, off);
  expect(softmaxWasmRuns() - before).toBe(rows * n > 0 ? 1 : 0);
  const o = off[1];
  for (let i = 0; i < got.length; i++) {
    if (i < o || i >= o + rows * n) {
      if (!Object.is(got[i], js[i])) throw new Error(`wrote outside the output at ${i}`);
    }
  }
  for (let r = 0; r < rows; r++) {
    const row = xs.slice(r * n, (r + 1) * n);
    const w = Array.from({ length: n }, (_, j) => exact[o + r * n + j]!);
    const m = Math.max(...row.map((v) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v)));
    const special = !Number.isFinite(m) || row.some(Number.isNaN);
    const soft = log ? w.map(Math.exp) : w;
    const d = row.map((v) => Math.abs(v - m));
    const Es = U * (soft.reduce((a, wj, j) => a + (wj > 0 ? wj * d[j]! : 0), 0) + 6 + Math.ceil(n / 4) + 3);
    for (let j = 0; j < n; j++) {
      const k = o + r * n + j;
      const [g, want] = [got[k]!, exact[k]!];
      const why = () =>
        `${log ? 'log' : ''}softmax row [${row}] at ${j}: ${g} in wasm, ${js[k]} in JS, ${want} exact`;
      // Special rows and entries (NaN rows, -Inf entries, float32 overflow) as the JS loop, bit for bit.
      if (special || !Number.isFinite(Math.fround(want)) || !Number.isFinite(row[j]!)) {
        if (!Object.is(g, js[k])) throw new Error(why());
        continue;
      }
      let bound: number;
      if (log) {
        const lse = row[j]! - want;
        bound = Es + 4 * U * Math.abs(lse - m) + U * Math.abs(lse) + U * Math.abs(want);
      } else bound = want * (U * d[j]! + 6 * U + Es + 2 * U) + 2 ** -148;
      if (!(Math.abs(g - want) <= bound)) throw new Error(`${why()}: beyond ${bound}`);
    }
  }
}

const valueArb = fc.oneof(
  { weight: 6, arbitrary: realIn(-8, 8, { f32: true }) },
  { weight: 2, arbitrary: realIn(-120, 120, { f32: true }) },
  { weight: 1, arbitrary: realIn(-3e38, 3e38, { f32: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -130)) },
);

describe.skipIf(!simd)('softmax and log-softmax rows in wasm against the JS loop', () => {
  const saved = WASM_MIN_SOFTMAX.value;
  afterEach(() => {
    WASM_MIN_SOFTMAX.value = saved;
    setCpuWasm('auto');
  });

  it('softmax and log-softmax of rows of 37 (the generated functions, both, first)', () => {
    WASM_MIN_SOFTMAX.value = 0;
    const xs = Array.from({ length: 3 * 37 }, (_, i) => Math.fround(Math.sin(i) * 6));
    check(xs, 3, 37, false, [0, 0]);
    check(xs, 3, 37, true, [1, 2]);
    expect(softmaxKernels()).toBe(softmaxKernels());
  });

  for (const log of [false, true]) {
    it(`${log ? 'logSoftmax' : 'softmax'}: rows 0..6 of 0..70 at offsets, specials, within the derived bound`, () => {
      WASM_MIN_SOFTMAX.value = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 6 }),
          fc.integer({ min: 0, max: 70 }),
          fc.tuple(fc.nat(5), fc.nat(5)),
          fc.infiniteStream(valueArb),
          fc.constantFrom(0, 0, 1),
          (rows, n, off, stream, specials) => {
            const xs = [...stream.take(rows * n)].map((v) =>
              specials || Number.isFinite(v) ? v : Math.fround(Math.sign(v) || 1),
            );
            check(xs, rows, n, log, off);
          },
        ),
        { numRuns: 150, seed: SEED },
      );
    });

    it(`${log ? 'logSoftmax' : 'softmax'}: one row of 20003 and 300 rows of 65 (chunks)`, () => {
      let s = 99;
      const rand = () => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return Math.fround((s / 2147483648) * 16 - 8);
      };
      check(Array.from({ length: 20003 }, rand), 1, 20003, log, [1, 3]);
      check(Array.from({ length: 300 * 65 }, rand), 300, 65, log, [2, 0]);
    });
  }

  it('wasm for float32 from WASM_MIN_SOFTMAX elements, JS below, for float64, when off or overlapping', () => {
    const ran = (x: View, out: View, log = false) => {
      const before = softmaxWasmRuns();
      cpu.softmax({ x, out }, log);
      return softmaxWasmRuns() > before;
    };
    const min = WASM_MIN_SOFTMAX.value;
    const f32 = (rows: number, n: number) => rowsView(new Float32Array(rows * n).fill(0.5), rows, n, 0);
    expect(ran(f32(1, min), f32(1, min))).toBe(true);
    expect(ran(f32(1, min - 1), f32(1, min - 1), true)).toBe(false);
    // float64 runs the JS loop: its exact answer.
    const x64 = rowsView(
      Float64Array.from({ length: 64 }, (_, i) => i / 8),
      4,
      16,
      0,
    );
    const o64 = rowsView(new Float64Array(64), 4, 16, 0);
    expect(ran(x64, o64, true)).toBe(false);
    const b64 = x64.buffer as Float64Array;
    const want = Array.from(b64, (v, i) => {
      const row = Array.from(b64.subarray(i - (i % 16), i - (i % 16) + 16));
      const m = Math.max(...row);
      return v - (m + Math.log(row.reduce((a, r) => a + Math.exp(r - m), 0)));
    });
    expect(Array.from(o64.buffer as Float64Array)).toEqual(want);
    // An output one float past its input: the JS loop, which reads each element before the next one is written.
    const shared = Float32Array.from({ length: 65 }, (_, i) => (i % 7) - 3);
    const copy = shared.slice();
    expect(ran(rowsView(shared, 4, 16, 0), rowsView(shared, 4, 16, 1))).toBe(false);
    expect(Array.from(shared)).not.toEqual(Array.from(copy)); // written
    setCpuWasm('off');
    cpu.softmax({ x: rowsView(copy, 4, 16, 0), out: rowsView(copy, 4, 16, 1) }, false);
    setCpuWasm('on');
    expect(Array.from(shared)).toEqual(Array.from(copy));
    shared.fill(1);
    expect(ran(rowsView(shared, 4, 16, 1), rowsView(shared, 4, 16, 1))).toBe(true);
    expect(Array.from(shared.subarray(1))).toEqual(Array(64).fill(1 / 16));
    setCpuWasm('off');
    expect(ran(f32(4, 16), f32(4, 16))).toBe(false);
    setCpuWasm('auto');
    const before = softmaxWasmRuns();
    core.logSoftmax(core.tensor(new Float32Array(4 * 65).fill(1), { shape: [4, 65] })).dispose();
    expect(softmaxWasmRuns() - before).toBe(1);
  });
});
