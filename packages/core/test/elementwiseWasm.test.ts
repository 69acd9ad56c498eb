import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, type View, setCpuWasm } from '@webrnn/core';
import { BINARY_FORMULAS, PARAM_UNARY_FORMULAS, UNARY_FORMULAS, jsFormula } from '@webrnn/kernels';
import { elementwiseWasm } from '../src/backends/cpu/wasm/elementwiseModule.js';
import { WASM_MIN, elementwiseWasmRuns } from '../src/backends/cpu/wasm/elementwiseWasm.js';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { realIn } from './helpers/reals.js';

/**
 * The elementwise kernels' wasm SIMD functions (generated from kernels' formulas.ts by elementwiseModule.ts) against
 * the JS loops compiled from the same table, through the CPU backend: every formula the generator vectorises, on
 * sizes 0..70 (every f32x4 tail) and one size past two chunks, at offsets, with values of every binade (subnormals
 * too), +-0, +-Inf and NaN; the wasm path forced for every size (WASM_MIN lowered to 0), the JS one by
 * setCpuWasm('off').
 *
 * The reference is the CPU backend in float64 (the JS formula evaluated in doubles). Its float32 run is that value
 * rounded once, and must be bit for bit (checked). The wasm value must be:
 * - bit for bit the JS loop's for formulas of single IEEE operations, selects and comparisons (+ - * / sqrt of
 *   float32 operands rounded to float64 and then to float32 is the float32 operation: 53 >= 2 * 24 + 2 bits);
 * - within ULPS of the float64 value for the formulas with a vectorised function, each bound derived from the
 *   function's stated error, not from what these tests measure: exp, Cephes' expf, peak relative error 1.7e-7
 *   (2.85 units of 2^-24, and an error of k units of 2^-24 in v is under k ulps of v's binade); log, Cephes'
 *   logf, 7.6e-8 (1.28 units); tanh, simdMath.ts's stated 4 ulps (the cells' bound); sigmoid's formula
 *   t / (1 + t) or 1 / (1 + t) with t = e^(+-x) carries exp's relative error with a factor at most 1, plus two
 *   roundings: 2.85 + 2;
 * - affine (x p0 + p1 in float32, p0 and p1 rounded to float32 first; the JS loop computes in doubles): within
 *   u (2 |x p0| + |p1| + 2 |v|) + 2^-149, the four roundings and the reference's one (u = 2^-24).
 */
const simd = wasmFeatures().simd;
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const U = 2 ** -24;
const ULPS: Readonly<Record<string, number>> = { exp: 3, log: 2, tanh: 4, sigmoid: 5 };
/** The ops whose formula uses a function the generator does not vectorise: they stay in JavaScript. */
const NOT_VECTORISED = ['cos', 'sin', 'pow'];

interface Row {
  readonly op: string;
  readonly arity: 1 | 2;
  readonly params: boolean;
  readonly expr: string;
}
const ROWS: readonly Row[] = [
  ...Object.entries(UNARY_FORMULAS).map(([op, f]) => ({ op, arity: 1 as const, params: false, expr: f.js })),
  ...Object.entries(PARAM_UNARY_FORMULAS).map(([op, f]) => ({
    op,
    arity: 1 as const,
    params: true,
    expr: f.js,
  })),
  ...Object.entries(BINARY_FORMULAS).map(([op, f]) => ({ op, arity: 2 as const, params: false, expr: f.js })),
];
const vectorised = (r: Row) => elementwiseWasm(r.expr, r.arity === 1 ? ['x'] : ['a', 'b']) !== null;

const cpu = new CpuBackend();
type Dtype = 'float32' | 'float64';
const view = (buffer: Float32Array | Float64Array, n: number, offset: number, stride = 1): View => ({
  buffer,
  dtype: buffer instanceof Float32Array ? 'float32' : 'float64',
  shape: [n],
  strides: [stride],
  offset,
});

/** Runs row `r` on the CPU backend: inputs `xs` (one array per operand) at `offsets`, output at `outOffset`. */
function apply(
  r: Row,
  dtype: Dtype,
  xs: readonly (readonly number[])[],
  offsets: readonly number[],
  outOffset: number,
  params: readonly number[],
): Float32Array | Float64Array {
  const T = dtype === 'float32' ? Float32Array : Float64Array;
  const n = xs[0]!.length;
  const ins = xs.map((v, k) => {
    const b = new T(offsets[k]! + n + 3).fill(7);
    b.set(v, offsets[k]!);
    return view(b, n, offsets[k]!);
  });
  const out = new T(outOffset + n + 3).fill(-5);
  const o = view(out, n, outOffset);
  if (r.arity === 2) cpu.binary(r.op as never, { a: ins[0]!, b: ins[1]!, out: o });
  else cpu.unary({ op: r.op as never, ...(r.params ? { params } : {}) }, { x: ins[0]!, out: o });
  return out;
}

/** Distance in float32 ulps of `got` to the exact `want` (ulps of want's binade, 2^-149 below; Inf as 2^128). */
function ulps(got: number, want: number): number {
  const g = Number.isFinite(got) ? got : Math.sign(got) * 2 ** 128;
  return Math.abs(g - want) / 2 ** Math.max(Math.floor(Math.log2(Math.abs(want))) - 23, -149);
}

/** Float32 values of every binade (subnormals too), ordinary ranges, and the special ones. */
const SPECIAL = [Number.NaN, Infinity, 0, 2 ** -149, 2 ** -140 * 1.5, 2 ** -126, 3.4028234663852886e38];
const valueArb = fc.oneof(
  { weight: 4, arbitrary: realIn(-8, 8, { f32: true }) },
  { weight: 3, arbitrary: realIn(-120, 120, { f32: true }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.integer({ min: -149, max: 127 }), realIn(1, 2, { f32: true }), fc.boolean())
      .map(([e, m, neg]) => Math.fround((neg ? -m : m) * 2 ** e)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL, ...SPECIAL.map((v) => -v)) },
);

function check(r: Row, xs: number[][], offsets: number[], outOffset: number, params: number[]): void {
  const wasm = (on: boolean) => {
    setCpuWasm(on ? 'on' : 'off');
    return apply(r, 'float32', xs, offsets, outOffset, params);
  };
  const js = wasm(false);
  const before = elementwiseWasmRuns();
  const got = wasm(true);
  expect(elementwiseWasmRuns() - before).toBe(xs[0]!.length > 0 ? 1 : 0);
  const exact = apply(r, 'float64', xs, offsets, outOffset, params);
  const n = xs[0]!.length;
  for (let i = 0; i < got.length; i++) {
    const [g, j, w] = [got[i]!, js[i]!, exact[i]!];
    const inside = i >= outOffset && i < outOffset + n;
    if (!Object.is(j, Math.fround(w)))
      throw new Error(`${r.op}: the JS loop's float32 ${j} is not ${w} rounded`);
    if (!inside || Object.is(g, j)) continue;
    const args = xs.map((v) => v[i - outOffset]);
    const why = `${r.op}(${args.join(', ')}${r.params ? `; ${params}` : ''}) = ${g} in wasm, ${j} in JS, ${w} exact`;
    if (r.op === 'affine') {
      const [x, p0, p1] = [args[0]!, params[0]!, params[1]!];
      const bound = U * (2 * Math.abs(x * p0) + Math.abs(p1) + 2 * Math.abs(w)) + 2 ** -149;
      if (!(Math.abs(g - w) <= bound)) throw new Error(`${why}: beyond ${bound}`);
    } else {
      const bound = ULPS[r.op];
      // Outside the bounded ops, and wherever the exact value is special, only the same bits will do.
      if (bound === undefined || !Number.isFinite(w) || Number.isNaN(g)) throw new Error(why);
      if (!(ulps(g, w) <= bound)) throw new Error(`${why}: ${ulps(g, w)} ulps`);
    }
  }
}

describe.skipIf(!simd)(
  'the wasm elementwise kernels against the JS loops (every formula, every size)',
  () => {
    const saved = { ...WASM_MIN };
    beforeAll(() => {
      for (const r of ROWS) WASM_MIN[r.op] = 0;
    });
    afterAll(() => {
      for (const r of ROWS) delete WASM_MIN[r.op];
      Object.assign(WASM_MIN, saved);
      setCpuWasm('auto');
    });

    it('vectorises every formula of the table but those calling cos, sin and pow', () => {
      expect(ROWS.filter((r) => !vectorised(r)).map((r) => r.op)).toEqual(NOT_VECTORISED);
    });

    for (const r of ROWS.filter(vectorised)) {
      it(`${r.op}: sizes 0..70 at offsets, values of every binade and specials`, () => {
        fc.assert(
          fc.property(
            fc.array(fc.tuple(valueArb, valueArb, fc.nat(3)), { maxLength: 70 }),
            fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5)),
            fc.tuple(valueArb, valueArb).filter(([p, q]) => !Number.isNaN(p) && !Number.isNaN(q)),
            (pairs, [oa, ob, oo], [p, q]) => {
              // One pair in four equal, so that the comparisons see ties.
              const xs = [pairs.map(([a]) => a), pairs.map(([a, b, k]) => (k === 0 ? a : b))];
              const params = r.op === 'clamp' ? [Math.min(p, q), Math.max(p, q)] : [p, q];
              check(r, xs.slice(0, r.arity), [oa, ob], oo, params);
            },
          ),
          { numRuns: 40, seed: SEED },
        );
      });
    }

    it('exp, log, tanh and sigmoid on dense sweeps of their ranges (every polynomial interval to its ends)', () => {
      const grid = (lo: number, hi: number, n: number) =>
        Array.from({ length: n + 1 }, (_, i) => Math.fround(lo + ((hi - lo) * i) / n));
      // log: 4096 mantissas in [1, 2) in every binade, subnormal ones too.
      const mantissas = grid(1, 2, 4095);
      const logs = [];
      for (let e = -149; e <= 127; e += 3) logs.push(...mantissas.map((m) => Math.fround(m * 2 ** e)));
      const sweeps: Record<string, number[]> = {
        exp: grid(-104, 89, 60000),
        log: logs,
        tanh: grid(-12, 12, 60000),
        sigmoid: grid(-40, 40, 60000),
      };
      for (const [op, xs] of Object.entries(sweeps)) check(ROWS.find((r) => r.op === op)!, [xs], [0], 0, []);
    });

    it('past two chunks (20003 elements: the copies in and out by chunk of 8192)', () => {
      let s = 12345;
      const rand = () => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s / 2147483648;
      };
      const value = () => Math.fround((rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 16 - 8));
      for (const r of ROWS.filter(vectorised)) {
        const xs = [Array.from({ length: 20003 }, value), Array.from({ length: 20003 }, value)];
        check(r, xs.slice(0, r.arity), [1, 2], 3, [0.25, 2]);
      }
    });
  },
);
