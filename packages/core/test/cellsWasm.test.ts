import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/reals.js';
import { CpuBackend, type LstmGateOrder, type View, setCpuWasm } from '@webrnn/core';
import {
  CELLS,
  type CellKind,
  cellJs,
  cellOperandNames,
  cellWidth,
  cellWrites,
  isOptional,
} from '@webrnn/kernels';
import { wasmApi } from '../src/backends/cpu/wasm/api.js';
import { cellWasmRun } from '../src/backends/cpu/wasm/cellsWasm.js';
import { FunctionBuilder, I32, encodeModule } from '../src/backends/cpu/wasm/emitter.js';
import { sigmoid as simdSigmoid, simdTemps, tanh as simdTanh } from '../src/backends/cpu/wasm/simdMath.js';
import { wasmFeatures } from '../src/backends/cpu/wasm/features.js';
import { boundedCell } from './helpers/cellBounds.js';

/**
 * The fused cells' wasm SIMD functions (generated from kernels' cells.ts by cellModule.ts) against the JS loops
 * generated from the same table, on sizes 0..70 (rows and units: whole f32x4s and every tail), both families,
 * forward and backward kernels, every LSTM gate order, absent optional gradients, contiguous and row-padded
 * (offset, stride > width) views, with values that mix O(1) numbers, large magnitudes, +-0, +-Inf and NaN.
 *
 * The tolerance is derived, per element, by an independent float64 evaluator of the table with a forward error
 * bound (helpers/cellBounds.ts: float32 rounding per operation, the activations' stated 4 ulps). That evaluator is
 * itself checked: its float64 value rounded to float32 is the JS loop's value bit for bit.
 */
const simd = wasmFeatures().simd;
const KINDS = Object.keys(CELLS) as CellKind[];
const ORDERS: readonly LstmGateOrder[] = ['izfo', 'ifog', 'ifgo'];
const SPECIAL = [Number.NaN, Infinity, -Infinity, 0, -0];

type Views = Record<string, View | null>;
type JsLoop = (N: number, H: number, v: Views) => void;
const jsLoops = new Map<string, JsLoop>();

function jsLoop(kind: CellKind, order: LstmGateOrder | undefined, absent: string[]): JsLoop {
  const key = `${kind}|${order}|${absent}`;
  let loop = jsLoops.get(key);
  if (!loop) {
    loop = new Function(cellJs(kind, order, absent).source)() as JsLoop;
    jsLoops.set(key, loop);
  }
  return loop;
}

interface Case {
  kind: CellKind;
  N: number;
  H: number;
  order: LstmGateOrder;
  /** Per operand: extra floats between rows, offset, present (optional ones). */
  layouts: { pad: number; offset: number; present: boolean }[];
  /** Share of special values and of large magnitudes. */
  special: number;
  large: number;
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constantFrom(...KINDS),
  N: fc.integer({ min: 0, max: 70 }),
  H: fc.integer({ min: 0, max: 70 }),
  order: fc.constantFrom(...ORDERS),
  layouts: fc.array(fc.record({ pad: fc.constantFrom(0, 0, 3), offset: fc.nat(5), present: fc.boolean() }), {
    minLength: 7,
    maxLength: 7,
  }),
  special: fc.constantFrom(0, 0.02, 0.2),
  large: fc.constantFrom(0, 0.1, 0.5),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/** Two identical sets of operands: float32 views with rows `pad` apart beyond their width, from `offset`. */
function operands(c: Case): [Views, Views] {
  let s = c.seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const value = () => {
    const r = rand();
    if (r < c.special) return SPECIAL[Math.floor(rand() * SPECIAL.length)]!;
    if (r < c.special + c.large) return (rand() < 0.5 ? -1 : 1) * 10 ** (rand() * 38);
    return (rand() * 2 - 1) * 6;
  };
  const [a, b]: [Views, Views] = [{}, {}];
  cellOperandNames(c.kind).forEach((name, k) => {
    const l = c.layouts[k]!;
    if (isOptional(c.kind, name) && !l.present) {
      a[name] = b[name] = null;
      return;
    }
    const cols = cellWidth(c.kind, name) * c.H;
    const data = Float32Array.from({ length: l.offset + c.N * (cols + l.pad) }, value);
    const view = (buffer: Float32Array): View => ({
      buffer,
      dtype: 'float32',
      shape: [c.N, cols],
      strides: [cols + l.pad, 1],
      offset: l.offset,
    });
    a[name] = view(data.slice());
    b[name] = view(data.slice());
  });
  return [a, b];
}

const at = (v: View, n: number, col: number) =>
  (v.buffer as Float32Array)[v.offset + n * v.strides[0]! + col]!;

/** Checks every element of every written operand (and that nothing outside the views moved). */
function compare(c: Case, input: Views, wasm: Views, js: Views): void {
  const order = CELLS[c.kind].family === 'lstm' ? c.order : undefined;
  const writes = cellOperandNames(c.kind).slice(0, cellWrites(c.kind));
  for (let n = 0; n < c.N; n++) {
    for (let j = 0; j < c.H; j++) {
      const bounds = boundedCell(c.kind, order, c.H, j, (name, col) => {
        const v = input[name];
        return v ? at(v, n, col) : 0;
      });
      for (const [where, b] of bounds) {
        const [name, col] = [
          where.slice(0, where.indexOf('[')),
          Number(where.slice(where.indexOf('[') + 1, -1)),
        ];
        const [g, w] = [at(wasm[name]!, n, col), at(js[name]!, n, col)];
        const what = () => `${c.kind} ${name}[${n}, ${col}] (H ${c.H}): wasm ${g}, js ${w}, bound ${b.err}`;
        // The evaluator is the JS loop's maths: rounded to float32 it is the JS value exactly.
        if (!Object.is(Math.fround(b.v), w) && !(Number.isNaN(b.v) && Number.isNaN(w)))
          throw new Error(`evaluator ${b.v} differs: ${what()}`);
        if (b.nanIn) {
          if (!Number.isNaN(g)) throw new Error(`NaN must propagate: ${what()}`);
        } else if (b.finite) {
          if (!(Math.abs(g - w) <= b.err + 2 ** -24 * Math.abs(b.v)))
            throw new Error(`beyond the bound: ${what()}`);
        } else if (
          !Number.isNaN(g) &&
          !(Number.isFinite(w) ? Math.abs(g - w) <= b.err || !Number.isFinite(g) : g === w)
        ) {
          // An infinity or a float32 overflow fed it: float32 may turn the JS value into NaN or an infinity.
          throw new Error(`special value: ${what()}`);
        }
      }
    }
  }
  for (const name of writes) {
    const [x, y] = [wasm[name]!.buffer as Float32Array, js[name]!.buffer as Float32Array];
    for (let i = 0; i < x.length; i++) {
      const inView =
        i >= wasm[name]!.offset && (i - wasm[name]!.offset) % wasm[name]!.strides[0]! < wasm[name]!.shape[1]!;
      if (!inView && !Object.is(x[i], y[i]))
        throw new Error(`${c.kind} ${name}: element ${i} outside the view moved`);
    }
  }
}

describe.skipIf(!simd)('the fused cells in wasm SIMD', () => {
  it('agree with the JS loops within the derived float32 error bound; specials as the JS path', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const [wasm, js] = operands(c);
        const input: Views = Object.fromEntries(
          Object.entries(js).map(([k, v]) => [k, v && { ...v, buffer: (v.buffer as Float32Array).slice() }]),
        );
        const order = CELLS[c.kind].family === 'lstm' ? c.order : undefined;
        const absent = cellOperandNames(c.kind).filter((n) => wasm[n] === null);
        expect(cellWasmRun(c.kind, wasm, order, absent, c.N, c.H)).toBe(true);
        jsLoop(c.kind, order, absent)(c.N, c.H, js);
        compare(c, input, wasm, js);
      }),
      { numRuns: 200, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261205) },
    );
  });
});

/** A module applying one activation to n floats (n a multiple of 4) from byte address src to dst. */
function activation(which: 'sigmoid' | 'tanh'): {
  run: (src: number, dst: number, n: number) => void;
  F: Float32Array;
} {
  const f = new FunctionBuilder([I32, I32, I32]);
  const [src, dst, n] = [f.param(0, I32), f.param(1, I32), f.param(2, I32)];
  const T = simdTemps(f);
  f.loop();
  f.get(dst).get(src).v128Load();
  (which === 'sigmoid' ? simdSigmoid : simdTanh)(f, T);
  f.v128Store();
  f.get(src).i32(16).op('i32Add').set(src);
  f.get(dst).i32(16).op('i32Add').set(dst);
  f.get(n).i32(4).op('i32Sub').tee(n).brIf(0);
  f.end();
  const bytes = encodeModule({
    functions: [{ name: 'f', body: f }],
    memory: { initial: 4, maximum: 4, shared: false },
  });
  const memory = new wasmApi!.Memory({ initial: 4, maximum: 4 });
  const run = new wasmApi!.Instance(new wasmApi!.Module(bytes), { env: { memory } }).exports.f as never;
  return { run, F: new Float32Array(memory.buffer) };
}

/** Distance in float32 ulps of the value at `got` to the exact `want` (ulps of want's binade; 2^-149 below). */
const ulps = (got: number, want: number) =>
  Math.abs(got - want) / 2 ** Math.max(Math.floor(Math.log2(Math.abs(want))) - 23, -149);

describe.skipIf(!simd)('the vectorised activations', () => {
  for (const which of ['sigmoid', 'tanh'] as const) {
    const exact =
      which === 'sigmoid'
        ? (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))
        : Math.tanh;
    it(`${which}: within 4 ulps of float64 on random float32s of every magnitude; saturation and NaN exact`, () => {
      const { run, F } = activation(which);
      const specials = [
        Number.NaN,
        Infinity,
        -Infinity,
        0,
        -0,
        1e-45,
        -1e-45,
        88.8,
        -88.8,
        104,
        -104,
        200,
        -200,
      ];
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              { weight: 4, arbitrary: realIn(-120, 120, { f32: true }) },
              {
                weight: 1,
                arbitrary: fc.float({
                  noDefaultInfinity: false,
                  min: Math.fround(-120),
                  max: Math.fround(120),
                }),
              },
            ),
            {
              minLength: 1,
              maxLength: 4000,
            },
          ),
          fc.array(realIn(-4, 4, { f32: true }), { maxLength: 4000 }),
          (wide, narrow) => {
            const xs = Float32Array.from([...specials, ...wide, ...narrow]);
            const n = (xs.length + 3) & ~3;
            F.set(xs, 0);
            run(0, 4 * n, n);
            for (let i = 0; i < xs.length; i++) {
              const [x, got, want] = [xs[i]!, F[n + i]!, exact(xs[i]!)];
              if (Number.isNaN(want)) expect(got).toBeNaN();
              else if (!Number.isFinite(x) || want === 0) {
                if (!Object.is(got, Math.fround(want)))
                  throw new Error(`${which}(${x}) = ${got}, not ${want}`);
              } else if (!(ulps(got, want) <= 4))
                throw new Error(`${which}(${x}) = ${got}, float64 ${want}: ${ulps(got, want)} ulps`);
            }
          },
        ),
        { numRuns: 60, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261205) },
      );
    });
  }
});

describe.skipIf(!simd)('the CPU backend chooses the wasm cells', () => {
  const cpu = new CpuBackend();
  const run = (kind: CellKind, v: Views, order: LstmGateOrder) =>
    (cpu.cell as (k: CellKind, v: Views, o: LstmGateOrder) => void).call(cpu, kind, v, order);
  const sameBits = (kind: CellKind, x: Views, y: Views) =>
    cellOperandNames(kind)
      .slice(0, cellWrites(kind))
      .every((n) =>
        (x[n]!.buffer as Float32Array).every((a, i) => Object.is(a, (y[n]!.buffer as Float32Array)[i])),
      );
  const base = { order: 'ifog' as const, special: 0.02, large: 0.1, seed: 7 };
  const dense = Array.from({ length: 7 }, () => ({ pad: 0, offset: 1, present: true }));

  it('for float32 rows of 64 units and more, unless switched off; the JS loop below 64 units', () => {
    for (const kind of KINDS) {
      const big: Case = { ...base, kind, N: 3, H: 24, layouts: dense };
      const order = CELLS[kind].family === 'lstm' ? base.order : undefined;
      const [viaBackend, direct] = operands(big);
      run(kind, viaBackend, base.order);
      cellWasmRun(kind, direct, order, [], big.N, big.H);
      expect(sameBits(kind, viaBackend, direct)).toBe(true);
      const [off, js] = operands(big);
      setCpuWasm('off');
      try {
        run(kind, off, base.order);
      } finally {
        setCpuWasm('auto');
      }
      jsLoop(kind, order, [])(big.N, big.H, js);
      expect(sameBits(kind, off, js)).toBe(true);
      // and the wasm result is not the JS one bit for bit somewhere (else this test could not tell them apart)
      expect(sameBits(kind, viaBackend, js)).toBe(false);
      const [small, smallJs] = operands({ ...big, N: 15, H: 4 });
      run(kind, small, base.order);
      jsLoop(kind, order, [])(15, 4, smallJs);
      expect(sameBits(kind, small, smallJs)).toBe(true);
    }
  });

  it('not for views whose rows are not contiguous (a transposed operand)', () => {
    const c: Case = { ...base, kind: 'gruOut', N: 8, H: 16, layouts: dense };
    const [a, b] = operands(c);
    const t = a.xc!;
    // The same values, stored column-major.
    const tb = new Float32Array((t.buffer as Float32Array).length);
    for (let n = 0; n < c.N; n++) for (let j = 0; j < c.H; j++) tb[1 + j * c.N + n] = at(t, n, j);
    a.xc = { ...t, buffer: tb, strides: [1, c.N] };
    run('gruOut', a, base.order);
    jsLoop('gruOut', undefined, [])(c.N, c.H, b);
    expect(sameBits('gruOut', a, b)).toBe(true);
  });
});
