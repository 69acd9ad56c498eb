/** The elementwise ops, named here with their formulas (gradients and validation: core's ops/elementwise.ts). */
export type UnaryOpName =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'step'
  | 'square'
  | 'reciprocal'
  | 'cos'
  | 'sin';

export type BinaryOpName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'max'
  | 'min'
  | 'gt'
  | 'ge'
  | 'lt'
  | 'le'
  | 'eq';

/**
 * The formulas of every elementwise op, once, for every backend: `js` is compiled into the CPU backend's loops,
 * `wgsl` into the WebGPU kernels. Variables: `x` (unary), `a` and `b` (binary); `p0`, `p1` the parameters of
 * clamp and affine (`q0`, `q1` in WGSL's int32 formulas). `jsInt` / `wgslInt` replace them for int32 where
 * integer arithmetic differs (exact products with Math.imul, wrapping as two's complement as PyTorch; no NaN
 * tests). `floatOnly` ops reject int32 inputs. Gradients live beside the ops in core's ops/elementwise.ts.
 *
 * Both sides give IEEE-754 / PyTorch answers for NaN, +-Inf and +-0. WGSL may assume that no NaN or Inf occurs and
 * leaves max/min/clamp/pow/exp/log/division at special values implementation-defined, so the float formulas go
 * through the `ieee*` helpers of numerics.ts, which decide special cases on the bit pattern.
 */
export interface ElementwiseFormula {
  readonly js: string;
  readonly jsInt?: string;
  readonly wgsl: string;
  readonly wgslInt?: string;
  readonly floatOnly?: boolean;
}

/** The formula of `f` for elements of the given kind. */
export const jsFormula = (f: ElementwiseFormula, int: boolean): string => (int ? (f.jsInt ?? f.js) : f.js);
export const wgslFormula = (f: ElementwiseFormula, int: boolean): string =>
  int ? (f.wgslInt ?? f.wgsl) : f.wgsl;

/** A comparison: false when either side is NaN (IEEE), which WGSL must test on the bits. */
const compare = (op: string): ElementwiseFormula => ({
  js: `(a ${op === '==' ? '===' : op} b ? 1 : 0)`,
  wgsl: `select(0.0, 1.0, a ${op} b && ieeeOrdered(a, b))`,
  wgslInt: `select(0, 1, a ${op} b)`,
});

export const UNARY_FORMULAS: Record<UnaryOpName, ElementwiseFormula> = {
  // neg and abs of a float flip or clear the sign bit: exact for NaN and Inf on any implementation.
  neg: { js: '-x', wgsl: 'bitcast<f32>(bitcast<u32>(x) ^ 0x80000000u)', wgslInt: '-x' },
  exp: { js: 'Math.exp(x)', wgsl: 'ieeeExp(x)', floatOnly: true },
  log: { js: 'Math.log(x)', wgsl: 'ieeeLog(x)', floatOnly: true },
  sqrt: { js: 'Math.sqrt(x)', wgsl: 'ieeeSqrt(x)', floatOnly: true },
  abs: { js: 'Math.abs(x)', wgsl: 'bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu)', wgslInt: 'abs(x)' },
  // sign(NaN) = 0 and sign(-0) = +0, as PyTorch (1.13 to 2.x: (0 < x) - (x < 0)), not NaN as NumPy.
  sign: { js: '(x > 0 ? 1 : x < 0 ? -1 : 0)', wgsl: 'ieeeSign(x)', wgslInt: 'sign(x)' },
  tanh: { js: 'Math.tanh(x)', wgsl: 'ieeeTanh(x)', floatOnly: true },
  // The stable sigmoid (exp of -|x| only); WGSL's is ieeeSigmoid, the same formula.
  sigmoid: {
    js: '(x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))',
    wgsl: 'ieeeSigmoid(x)',
    floatOnly: true,
  },
  // NaN propagates, as in PyTorch.
  relu: {
    js: '(x > 0 || x !== x ? x : 0)',
    wgsl: 'select(0.0, x, x > 0.0 || ieeeIsNan(x))',
    wgslInt: 'max(x, 0)',
  },
  // 1 where x > 0, else 0 (also at NaN, as the CPU's comparison): the gradient masks of relu and clamp.
  step: {
    js: '(x > 0 ? 1 : 0)',
    wgsl: 'select(0.0, 1.0, x > 0.0 && !ieeeIsNan(x))',
    wgslInt: 'select(0, 1, x > 0)',
  },
  square: { js: 'x * x', jsInt: 'Math.imul(x, x)', wgsl: 'x * x' },
  reciprocal: { js: '1 / x', wgsl: 'ieeeDiv(1.0, x)', floatOnly: true },
  // NaN and +-Inf give NaN (IEEE, PyTorch). WGSL's sin/cos are accurate only near [-pi, pi] on some GPUs (a
  // few ULP there, an absolute error that grows with |x| beyond): the harness keeps inputs in [-3, 3].
  cos: { js: 'Math.cos(x)', wgsl: 'ieeeCos(x)', floatOnly: true },
  sin: { js: 'Math.sin(x)', wgsl: 'ieeeSin(x)', floatOnly: true },
};

/**
 * clamp and affine carry two scalar parameters (uniforms on the GPU). For int32 they are integers (the ops refuse
 * fractions; clamp's bounds are cut to the int32 range, affine's reduced modulo 2^32) and run in i32.
 */
export const PARAM_UNARY_FORMULAS: Record<'clamp' | 'affine', ElementwiseFormula> = {
  clamp: {
    js: '(x < p0 ? p0 : x > p1 ? p1 : x)',
    wgsl: 'ieeeClamp(x, p0, p1)',
    wgslInt: 'clamp(x, q0, q1)',
  },
  affine: {
    js: 'x * p0 + p1',
    jsInt: '((Math.imul(x, p0) + p1) | 0)',
    wgsl: 'x * p0 + p1',
    wgslInt: 'x * q0 + q1',
  },
};

/**
 * float -> int32 (cast): truncate toward zero, saturate outside the int32 range, NaN -> 0, as WGSL's defined
 * conversions and Rust do (PyTorch leaves it to the processor). An Int32Array store would wrap instead, and WGSL's
 * i32(f32) leaves NaN and out-of-range values to the implementation, so both sides decide them first (the WGSL on
 * the bit pattern).
 */
export const FLOAT_TO_INT32: ElementwiseFormula = {
  js: '(x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x))',
  wgsl:
    'select(select(i32(x), select(2147483647, -2147483647 - 1, (bitcast<u32>(x) >> 31u) != 0u), ' +
    '(bitcast<u32>(x) & 0x7fffffffu) >= 0x4f000000u), 0, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u)',
};

/** The int32 range, for every check and cut that needs it (the kernels, the backends and the ops). */
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * The parameters of an int32 clamp or affine as both backends apply them: clamp's bounds (infinite ones too) cut to
 * the int32 range, affine's scale and shift reduced modulo 2^32 (exact for integers; the ops refuse fractions).
 */
export function intParams(op: 'clamp' | 'affine', params: readonly number[]): [number, number] {
  const [p0 = 0, p1 = 0] = params;
  if (op === 'affine') return [p0 | 0, p1 | 0];
  const cut = (v: number) => Math.trunc(Math.min(INT32_MAX, Math.max(INT32_MIN, v)));
  return [cut(p0), cut(p1)];
}

export const BINARY_FORMULAS: Record<BinaryOpName, ElementwiseFormula> = {
  add: { js: 'a + b', wgsl: 'a + b' },
  sub: { js: 'a - b', wgsl: 'a - b' },
  // a * b in doubles loses bits past 2^53 before the int32 wrap; Math.imul is the exact product modulo 2^32.
  mul: { js: 'a * b', jsInt: 'Math.imul(a, b)', wgsl: 'a * b' },
  // int32 division truncates toward zero and -2^31 / -1 wraps to -2^31. A zero divisor never gets here: the op
  // refuses a number 0, and for a tensor holding 0 both backends raise (the CPU before this loop, WebGPU through
  // its device-side status), as PyTorch does.
  div: { js: 'a / b', jsInt: '(a / b) | 0', wgsl: 'ieeeDiv(a, b)', wgslInt: 'a / b' },
  // C99's pow, which PyTorch computes: JS differs only in pow(1, y) = 1 and pow(-1, +-Inf) = 1 (NaN in JS).
  pow: {
    js: '(a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b))',
    wgsl: 'ieeePow(a, b)',
    floatOnly: true,
  },
  // A NaN on either side gives NaN (PyTorch's maximum/minimum).
  max: { js: '(a >= b || a !== a ? a : b)', wgsl: 'ieeeMax(a, b)', wgslInt: 'max(a, b)' },
  min: { js: '(a <= b || a !== a ? a : b)', wgsl: 'ieeeMin(a, b)', wgslInt: 'min(a, b)' },
  gt: compare('>'),
  ge: compare('>='),
  lt: compare('<'),
  le: compare('<='),
  eq: compare('=='),
};
