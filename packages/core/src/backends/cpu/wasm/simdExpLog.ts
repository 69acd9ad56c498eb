import type { FunctionBuilder } from './emitter.js';
import { type SimdTemps, expNonPositive, horner } from './simdMath.js';

/**
 * e^x and log(x) on f32x4 for the elementwise kernels (the cells need only simdMath.ts's e^y, y <= 0). Each takes
 * its argument on the wasm stack and leaves the result there, using the locals of one SimdTemps.
 *
 * - exp(x): x clamped to [EXP_MIN, EXP_MAX] and simdMath's Cephes expf. Above 88.72, e^x overflows float32: from
 *   the clamp at 89 the product with 2^128 is +Inf, as JS's float64 value rounded to float32 is; +Inf gives +Inf,
 *   -Inf gives +0, NaN gives NaN (wasm's f32x4.min and max propagate NaN).
 * - log(x): Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(x) = e ln2 + log1p(m - 1), log1p by
 *   z - z^2/2 + z^3 P(z) (P of degree 8), e ln2 in two parts. Subnormal x is first scaled by 2^25 (its exponent
 *   field is 0). Cephes states a peak relative error of 7.6e-8 (1.3 units of 2^-24) over its test range; then the
 *   IEEE specials as JS: log(+-0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN.
 */
const EXP_MAX = 89;

export function exp(f: FunctionBuilder, T: SimdTemps): void {
  f.f32x4Const(EXP_MAX).simd('f32x4Min');
  expNonPositive(f, T);
}

const SQRT_HALF = 0.707106781186547524;
/** log1p(z) = z - z^2/2 + z^3 P(z) on [sqrt(1/2) - 1, sqrt(2) - 1]: P's coefficients, constant term first. */
const LOG_P = [
  3.3333331174e-1, -2.4999993993e-1, 2.0000714765e-1, -1.6668057665e-1, 1.4249322787e-1, -1.2420140846e-1,
  1.167699874e-1, -1.151461031e-1, 7.0376836292e-2,
];
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const SMALLEST_NORMAL = 2 ** -126;
const SUBNORMAL_SCALE = 25;

export function log(f: FunctionBuilder, T: SimdTemps): void {
  f.set(T.x);
  // y = x, or x 2^25 where x is subnormal (k: those lanes)
  f.get(T.x).f32x4Const(SMALLEST_NORMAL).simd('f32x4Lt').set(T.k);
  f.get(T.x)
    .f32x4Const(2 ** SUBNORMAL_SCALE)
    .simd('f32x4Mul')
    .get(T.x)
    .get(T.k)
    .simd('v128Bitselect')
    .set(T.y);
  // e = exponent field - 126 (m in [1/2, 1)), less 25 where scaled
  f.get(T.y).i32(23).simd('i32x4ShrU').i32x4Const(126).simd('i32x4Sub');
  f.get(T.k).i32x4Const(SUBNORMAL_SCALE).simd('v128And').simd('i32x4Sub').set(T.n);
  // m: y's mantissa with the exponent of 1/2
  f.get(T.y).i32x4Const(0x007fffff).simd('v128And').i32x4Const(0x3f000000).simd('v128Or').set(T.r);
  // below sqrt(1/2): e - 1 and z = 2m - 1, else z = m - 1 (both exact)
  f.get(T.r).f32x4Const(SQRT_HALF).simd('f32x4Lt').set(T.k);
  f.get(T.n).get(T.k).simd('i32x4Add').simd('f32x4ConvertI32x4S').set(T.n);
  f.get(T.r).get(T.r).get(T.k).simd('v128And').simd('f32x4Add').f32x4Const(1).simd('f32x4Sub').set(T.r);
  // log1p(z) + e ln2, summed as Cephes does: z^3 P(z) + e LN2_LO - z^2/2, then + z, then + e LN2_HI
  f.get(T.r).get(T.r).simd('f32x4Mul').set(T.s);
  horner(f, T.r, LOG_P);
  f.get(T.r).simd('f32x4Mul').get(T.s).simd('f32x4Mul');
  f.get(T.n).f32x4Const(LN2_LO).simd('f32x4Mul').simd('f32x4Add');
  f.get(T.s).f32x4Const(-0.5).simd('f32x4Mul').simd('f32x4Add');
  f.get(T.r).simd('f32x4Add');
  f.get(T.n).f32x4Const(LN2_HI).simd('f32x4Mul').simd('f32x4Add').set(T.t);
  // specials, decided on x: +-0 -> -Inf, +Inf -> +Inf, negative or NaN -> NaN
  f.f32x4Const(Number.NEGATIVE_INFINITY)
    .get(T.t)
    .get(T.x)
    .f32x4Const(0)
    .simd('f32x4Eq')
    .simd('v128Bitselect');
  f.set(T.t).f32x4Const(Number.POSITIVE_INFINITY).get(T.t);
  f.get(T.x).f32x4Const(Number.POSITIVE_INFINITY).simd('f32x4Eq').simd('v128Bitselect');
  f.f32x4Const(Number.NaN).get(T.x).f32x4Const(0).simd('f32x4Ge').simd('v128Bitselect');
}
