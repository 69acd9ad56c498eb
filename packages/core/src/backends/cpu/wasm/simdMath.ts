import { type FunctionBuilder, type Local, V128 } from './emitter.js';

/**
 * The cells' activations as f32x4 code: each emitter takes its argument on the wasm stack and leaves the result
 * there, using the scratch locals of one `SimdTemps` (shared by every call site of a function: an activation's
 * argument is fully computed before its code runs).
 *
 * Accuracy against float64 (Math.exp, Math.tanh, the JS path's stable sigmoid), on float32 inputs of every
 * magnitude: sigmoid and tanh within 2 ulps as measured (test/cellsWasm.test.ts holds them to 4, ACT_ULPS of
 * its error bound, on random and special inputs):
 * - exp(y), y <= 0 only (the activations need no more): Cephes' expf, y = n ln2 + r with |r| <= ln2/2 and a
 *   degree-7 polynomial for e^r, scaled by 2^n in two halves so that subnormal results are right too.
 * - sigmoid(x) = 1 / (1 + e^-|x|), or e^-|x| times that for x < 0 (the JS path's stable formula).
 * - tanh(x): for |x| < 0.625 the odd polynomial x + x^3 P(x^2) (a float32 least-squares fit, under 1 ulp), else
 *   (1 - e^-2|x|) / (1 + e^-2|x|); x's sign copied onto either.
 * - Specials as the JS path: sigmoid(+Inf) = 1, sigmoid(-Inf) = 0, tanh(+-Inf) = +-1 exactly, tanh(-0) = -0;
 *   NaN in, NaN out (wasm's f32x4.max propagates NaN; every select then picks between two NaN lanes).
 */
export interface SimdTemps {
  readonly x: Local<typeof V128>;
  readonly y: Local<typeof V128>;
  readonly n: Local<typeof V128>;
  readonly r: Local<typeof V128>;
  readonly k: Local<typeof V128>;
  readonly t: Local<typeof V128>;
  readonly s: Local<typeof V128>;
}

export function simdTemps(f: FunctionBuilder): SimdTemps {
  const v = () => f.local(V128);
  return { x: v(), y: v(), n: v(), r: v(), k: v(), t: v(), s: v() };
}

// Cephes expf: ln2 split in a part exact in products with |n| <= 150 and the rest; the polynomial of e^r.
const LOG2E = 1.44269504088896341;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const EXP_P = [
  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
];
/** Below this e^y is under half the smallest subnormal: clamping there keeps n >= -150. */
const EXP_MIN = -104;

/** tanh(x) = x + x^3 P(x^2) for |x| < TANH_SMALL: P's coefficients, constant term first. */
const TANH_SMALL = 0.625;
const TANH_P = [
  -0.3333328068256378, 0.13331380486488342, -0.05373530462384224, 0.02062624879181385, -0.005691935773938894,
];

/** Horner's rule: p(z) with z in local `z`, coefficients constant term first. */
export function horner(f: FunctionBuilder, z: Local, coefficients: readonly number[]): void {
  f.f32x4Const(coefficients[coefficients.length - 1]!);
  for (let i = coefficients.length - 2; i >= 0; i--) {
    f.get(z).simd('f32x4Mul').f32x4Const(coefficients[i]!).simd('f32x4Add');
  }
}

/** e^y for y <= 0 or NaN (uses y, n, r, k). */
export function expNonPositive(f: FunctionBuilder, T: SimdTemps): void {
  f.f32x4Const(EXP_MIN).simd('f32x4Max').set(T.y);
  f.get(T.y).f32x4Const(LOG2E).simd('f32x4Mul').simd('f32x4Nearest').set(T.n);
  f.get(T.y).get(T.n).f32x4Const(LN2_HI).simd('f32x4Mul').simd('f32x4Sub');
  f.get(T.n).f32x4Const(LN2_LO).simd('f32x4Mul').simd('f32x4Sub').set(T.r);
  // e^r = 1 + r + r^2 P(r)
  horner(f, T.r, [...EXP_P].reverse());
  f.get(T.r).get(T.r).simd('f32x4Mul').simd('f32x4Mul').get(T.r).simd('f32x4Add');
  f.f32x4Const(1).simd('f32x4Add');
  // times 2^n, as 2^(n >> 1) 2^(n - (n >> 1)): each factor stays a normal float32 for n down to -150
  f.get(T.n).simd('i32x4TruncSatF32x4S').set(T.k);
  f.get(T.k).i32(1).simd('i32x4ShrS').set(T.n);
  scaleByPow2(f, T.n);
  f.get(T.k).get(T.n).simd('i32x4Sub').set(T.k);
  scaleByPow2(f, T.k);
}

/** Multiplies the stack's f32x4 by 2^e (int lanes of local e, -126 < e <= 127): e + 127 is the exponent field. */
function scaleByPow2(f: FunctionBuilder, e: Local): void {
  f.get(e).i32x4Const(127).simd('i32x4Add').i32(23).simd('i32x4Shl').simd('f32x4Mul');
}

/** sigmoid(x), the stable formula: t = e^-|x|, 1 / (1 + t) for x >= 0, t / (1 + t) below. */
export function sigmoid(f: FunctionBuilder, T: SimdTemps): void {
  f.tee(T.x).simd('f32x4Abs').simd('f32x4Neg');
  expNonPositive(f, T);
  f.set(T.t);
  f.f32x4Const(1).f32x4Const(1).get(T.t).simd('f32x4Add').simd('f32x4Div').set(T.s);
  f.get(T.t).get(T.s).simd('f32x4Mul').get(T.s);
  f.get(T.x).f32x4Const(0).simd('f32x4Lt').simd('v128Bitselect');
}

/** tanh(x): on a = |x|, the odd polynomial near 0 or (1 - t) / (1 + t) with t = e^-2a; then x's sign (so -0 stays -0). */
export function tanh(f: FunctionBuilder, T: SimdTemps): void {
  f.set(T.x);
  f.get(T.x).simd('f32x4Abs').set(T.s);
  f.get(T.s).f32x4Const(-2).simd('f32x4Mul');
  expNonPositive(f, T);
  f.set(T.t);
  f.f32x4Const(1).get(T.t).simd('f32x4Sub').f32x4Const(1).get(T.t).simd('f32x4Add').simd('f32x4Div').set(T.t);
  // near 0: a + a z P(z), z = a^2 (in k)
  f.get(T.s).get(T.s).simd('f32x4Mul').set(T.k);
  horner(f, T.k, TANH_P);
  f.get(T.k).simd('f32x4Mul').get(T.s).simd('f32x4Mul').get(T.s).simd('f32x4Add');
  f.get(T.t);
  f.get(T.s).f32x4Const(TANH_SMALL).simd('f32x4Lt').simd('v128Bitselect');
  // x's sign bit onto the (non-negative, or NaN) magnitude
  f.set(T.t).get(T.x).get(T.t).i32x4Const(-0x80000000).simd('v128Bitselect');
}
