import { FunctionBuilder, F32, I32, type Local, V128, encodeModule } from './emitter.js';
import { type FormulaExpr, formulaExpr } from '../formulaExpr.js';
import { exp, log } from './simdExpLog.js';
import { type SimdTemps, simdTemps, tanh } from './simdMath.js';

/**
 * Elementwise kernels as wasm SIMD128 functions, generated from kernels' formula table (formulas.ts: the `js` text
 * that elementwise.ts compiles into its loops, and that the WGSL kernels have beside it), the third generator
 * beside those two: no kernel is written by hand here.
 *
 * `kernel(bytes, out, in_0, ..., p0, p1)`: dense float32 arrays at byte addresses out and in_i, `bytes` a multiple
 * of 16; one iteration computes 4 elements. Float32 throughout where the JS loop computes in float64 and rounds
 * once at the store: single operations (+ - * /, sqrt, comparisons, selects) give the same float32 (double
 * rounding is harmless for them), a compound formula may differ by the roundings of its steps, and the functions
 * by their stated error (simdMath.ts, simdExpLog.ts).
 *
 * A formula that uses what f32x4 code cannot compute here (Math.pow, cos, sin, trunc, imul, the integer `|`)
 * gets null: that op stays in JavaScript.
 */
export type Vectorised = 'num' | 'mask';

/** The functions of the table vectorised here. */
const CALLS: Readonly<Record<string, (f: FunctionBuilder, T: SimdTemps) => void>> = {
  exp,
  log,
  tanh,
  sqrt: (f) => f.simd('f32x4Sqrt'),
  abs: (f) => f.simd('f32x4Abs'),
};

const ARITH = { '+': 'f32x4Add', '-': 'f32x4Sub', '*': 'f32x4Mul', '/': 'f32x4Div' } as const;
/** `!==` is true at NaN, as in JavaScript (f32x4.ne); the others are false there. */
const COMPARE = {
  '<': 'f32x4Lt',
  '>': 'f32x4Gt',
  '<=': 'f32x4Le',
  '>=': 'f32x4Ge',
  '===': 'f32x4Eq',
  '!==': 'f32x4Ne',
} as const;
const LOGIC = { '&&': 'v128And', '||': 'v128Or' } as const;

/** Thrown (and caught below) where the formula needs what is not vectorised here: the op stays in JS. */
class NotVectorisable extends Error {}

/** The kernel of formula `expr` over the operands `names` (x; a, b; ...) and parameters p0, p1, or null. */
export function elementwiseWasm(expr: string, names: readonly string[]): FunctionBuilder | null {
  const tree = formulaExpr(expr, [...names, 'p0', 'p1']);
  const f = new FunctionBuilder([I32, I32, ...names.map((): typeof I32 => I32), F32, F32]);
  const bytes = f.param(0, I32);
  const out = f.param(1, I32);
  const ptr = names.map((_, i) => f.param(i + 2, I32));
  const i = f.local(I32);
  const value = new Map<string, Local>(names.map((n) => [n, f.local(V128)]));
  value.set('p0', f.local(V128));
  value.set('p1', f.local(V128));
  const T = simdTemps(f);
  /** Each distinct call is computed once per iteration (sigmoid's formula calls Math.exp(x) twice). */
  const calls = new Map<string, Local>();

  const emit = (e: FormulaExpr): Vectorised => {
    switch (e.k) {
      case 'num':
        f.f32x4Const(e.value);
        return 'num';
      case 'var':
        f.get(value.get(e.name)!);
        return 'num';
      case 'neg':
        number(e.arg);
        f.simd('f32x4Neg');
        return 'num';
      case 'call': {
        const key = JSON.stringify(e);
        const done = calls.get(key);
        if (done) {
          f.get(done);
          return 'num';
        }
        const fn = CALLS[e.fn];
        if (!fn || e.args.length !== 1) throw new NotVectorisable();
        number(e.args[0]!);
        fn(f, T);
        const l = f.local(V128);
        calls.set(key, l);
        f.tee(l);
        return 'num';
      }
      case 'bin': {
        if (e.op in ARITH) {
          number(e.a);
          number(e.b);
          f.simd(ARITH[e.op as keyof typeof ARITH]);
          return 'num';
        }
        if (e.op in COMPARE) {
          number(e.a);
          number(e.b);
          f.simd(COMPARE[e.op as keyof typeof COMPARE]);
          return 'mask';
        }
        if (!(e.op in LOGIC)) throw new NotVectorisable();
        mask(e.a);
        mask(e.b);
        f.simd(LOGIC[e.op as keyof typeof LOGIC]);
        return 'mask';
      }
      case 'cond': {
        const kind = emit(e.yes);
        if (emit(e.no) !== kind) throw new NotVectorisable();
        mask(e.c);
        f.simd('v128Bitselect');
        return kind;
      }
    }
  };
  // A number where a condition is expected (or the reverse) is not in the table: refused, not guessed.
  const number = (e: FormulaExpr) => {
    if (emit(e) !== 'num') throw new NotVectorisable();
  };
  const mask = (e: FormulaExpr) => {
    if (emit(e) !== 'mask') throw new NotVectorisable();
  };

  f.get(f.param(names.length + 2, F32))
    .simd('f32x4Splat')
    .set(value.get('p0')!);
  f.get(f.param(names.length + 3, F32))
    .simd('f32x4Splat')
    .set(value.get('p1')!);
  f.block();
  f.get(bytes).op('i32Eqz').brIf(0);
  f.i32(0).set(i);
  f.loop();
  names.forEach((n, k) => {
    f.get(ptr[k]!).get(i).op('i32Add').v128Load().set(value.get(n)!);
  });
  f.get(out).get(i).op('i32Add');
  try {
    number(tree);
  } catch (err) {
    // Stryker disable next-line ConditionalExpression: equivalent: emission throws nothing else; the test keeps a generator bug from being taken for a refusal.
    if (err instanceof NotVectorisable) return null;
    throw err;
  }
  f.v128Store();
  f.get(i).i32(16).op('i32Add').tee(i).get(bytes).op('i32LtU').brIf(0);
  f.end();
  f.end();
  return f;
}

/** A module of one exported function `kernel` over the imported memory (limits as the matmul module's). */
export function elementwiseModule(
  body: FunctionBuilder,
  memory: { maximum: number; shared: boolean },
): Uint8Array {
  return encodeModule({
    memory: { initial: 1, maximum: memory.maximum, shared: memory.shared },
    functions: [{ name: 'kernel', body }],
  });
}
