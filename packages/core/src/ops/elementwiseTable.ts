import type { BinaryOpName, UnaryOpName } from '../backends/backend.js';

/**
 * The formulas of every elementwise op, once, for every backend: `js` is compiled into the CPU backend's loops,
 * `wgsl` into the WebGPU kernels. Variables: `x` (unary), `a` and `b` (binary); `T` is the element type
 * (f32 or i32 in WGSL). `floatOnly` ops reject int32 inputs. Gradients live beside the ops in elementwise.ts.
 *
 * WGSL may assume no NaN/Inf (fast math), so its formulas clamp before exp and use the stable sigmoid.
 */
export interface ElementwiseFormula {
  readonly js: string;
  readonly wgsl: string;
  readonly floatOnly?: boolean;
}

export const UNARY_FORMULAS: Record<UnaryOpName, ElementwiseFormula> = {
  neg: { js: '-x', wgsl: '-x' },
  exp: { js: 'Math.exp(x)', wgsl: 'exp(min(x, 88.0))', floatOnly: true },
  log: { js: 'Math.log(x)', wgsl: 'log(x)', floatOnly: true },
  sqrt: { js: 'Math.sqrt(x)', wgsl: 'sqrt(x)', floatOnly: true },
  abs: { js: 'Math.abs(x)', wgsl: 'abs(x)' },
  sign: { js: '(x > 0 ? 1 : x < 0 ? -1 : 0)', wgsl: 'sign(x)' },
  tanh: { js: 'Math.tanh(x)', wgsl: 'tanh(clamp(x, -15.0, 15.0))', floatOnly: true },
  sigmoid: {
    js: '(x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))',
    wgsl: 'select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)',
    floatOnly: true,
  },
  // NaN propagates on the CPU, as in PyTorch (the WGSL side may assume no NaN).
  relu: { js: '(x > 0 || x !== x ? x : 0)', wgsl: 'max(x, T(0))' },
  step: { js: '(x > 0 ? 1 : 0)', wgsl: 'select(T(0), T(1), x > T(0))' },
  square: { js: 'x * x', wgsl: 'x * x' },
  reciprocal: { js: '1 / x', wgsl: '1.0 / x', floatOnly: true },
};

/** clamp and affine carry two scalar parameters `p0`, `p1` (uniforms on the GPU). */
export const PARAM_UNARY_FORMULAS: Record<'clamp' | 'affine', ElementwiseFormula> = {
  clamp: { js: '(x < p0 ? p0 : x > p1 ? p1 : x)', wgsl: 'clamp(x, p0, p1)' },
  affine: { js: 'x * p0 + p1', wgsl: 'x * p0 + p1' },
};

export const BINARY_FORMULAS: Record<BinaryOpName, ElementwiseFormula> = {
  add: { js: 'a + b', wgsl: 'a + b' },
  sub: { js: 'a - b', wgsl: 'a - b' },
  mul: { js: 'a * b', wgsl: 'a * b' },
  div: { js: 'a / b', wgsl: 'a / b' },
  pow: { js: 'Math.pow(a, b)', wgsl: 'pow(a, b)', floatOnly: true },
  // A NaN on either side gives NaN on the CPU (PyTorch's maximum/minimum).
  max: { js: '(a >= b || a !== a ? a : b)', wgsl: 'max(a, b)' },
  min: { js: '(a <= b || a !== a ? a : b)', wgsl: 'min(a, b)' },
  gt: { js: '(a > b ? 1 : 0)', wgsl: 'select(T(0), T(1), a > b)' },
  ge: { js: '(a >= b ? 1 : 0)', wgsl: 'select(T(0), T(1), a >= b)' },
  lt: { js: '(a < b ? 1 : 0)', wgsl: 'select(T(0), T(1), a < b)' },
  le: { js: '(a <= b ? 1 : 0)', wgsl: 'select(T(0), T(1), a <= b)' },
  eq: { js: '(a === b ? 1 : 0)', wgsl: 'select(T(0), T(1), a == b)' },
};
