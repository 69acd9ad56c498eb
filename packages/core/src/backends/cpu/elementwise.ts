import type { TypedArray } from '../../dtype.js';
import {
  BINARY_FORMULAS,
  FLOAT_TO_INT32,
  PARAM_UNARY_FORMULAS,
  UNARY_FORMULAS,
  coalesce,
  intParams,
  jsFormula,
} from '@webrnn/kernels';
import type { View } from '../backend.js';
import { closureKernel } from './elementwiseClosure.js';
import { canCompileFormulas } from './formulaClosure.js';
import { elementwiseWasmRun } from './wasm/elementwiseWasm.js';

/**
 * Elementwise loops for the CPU, compiled once per formula with `new Function` so the formula is inlined into
 * the loop (no closure call per element). One compiled function serves every rank and stride pattern: it walks
 * the outer dims with an odometer and runs a tight loop over the innermost one. Where a Content-Security-Policy
 * forbids `new Function` (detected), the formula runs as a closure instead (elementwiseClosure.ts).
 */
type Kernel = (...args: unknown[]) => void;

/**
 * Kernels by formula, then by signature (arity, the dtypes of the output and inputs, compiled or closure). Each
 * signature gets its own function object, so that V8's feedback on the loads and stores stays monomorphic (one
 * typed-array kind each): a function shared by float32, float64 and int32 views runs several times slower on
 * short rows, where batch-1 recurrences live. The keys are numbers: no string is built per call.
 */
const cache = new Map<string, Map<number, Kernel>>();

/** Operand names by arity, matching the formulas' variables (`c` is where's condition). */
const NAMES: readonly (readonly string[])[] = [[], ['x'], ['a', 'b'], ['c', 'a', 'b']];

const DTYPE_CODE = { float32: 0, float64: 1, int32: 2 } as const;

function signature(out: View, inputs: readonly View[], compiled: boolean): number {
  let sig = DTYPE_CODE[out.dtype];
  for (const v of inputs) sig = sig * 3 + DTYPE_CODE[v.dtype];
  return (sig * 4 + inputs.length) * 2 + (compiled ? 1 : 0);
}

function compile(expr: string, out: View, inputs: readonly View[]): Kernel {
  const compiled = canCompileFormulas();
  let byExpr = cache.get(expr);
  if (!byExpr) cache.set(expr, (byExpr = new Map()));
  const sig = signature(out, inputs, compiled);
  const hit = byExpr.get(sig);
  if (hit) return hit;
  const names = NAMES[inputs.length]!;
  if (!compiled) {
    const kernel = closureKernel(expr, names);
    byExpr.set(sig, kernel);
    return kernel;
  }
  const args = names.map((n) => `D_${n}, o_${n}, s_${n}`).join(', ');
  const loadsFlat = names.map((n) => `const ${n} = D_${n}[o_${n} + i];`).join(' ');
  const loadsInner = names.map((n) => `const ${n} = D_${n}[i_${n} + j * l_${n}];`).join(' ');
  const src = `
    const r = shape.length;
    let n = 1; for (let d = 0; d < r; d++) n *= shape[d];
    if (n === 0) return;
    if (contig) {
      for (let i = 0; i < n; i++) { ${loadsFlat} out[outOffset + i] = ${expr}; }
      return;
    }
    const inner = r === 0 ? 1 : shape[r - 1];
    const outer = n / inner;
    const l_out = r === 0 ? 0 : outStrides[r - 1];
    ${names.map((n) => `const l_${n} = r === 0 ? 0 : s_${n}[r - 1]; let i_${n} = o_${n};`).join('\n')}
    let i_out = outOffset;
    const idx = new Int32Array(Math.max(r - 1, 1));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) { ${loadsInner} out[i_out + j * l_out] = ${expr}; }
      for (let d = r - 2; d >= 0; d--) {
        ${names.map((n) => `i_${n} += s_${n}[d];`).join(' ')} i_out += outStrides[d];
        if (++idx[d] < shape[d]) break;
        ${names.map((n) => `i_${n} -= s_${n}[d] * shape[d];`).join(' ')} i_out -= outStrides[d] * shape[d];
        idx[d] = 0;
      }
    }`;
  // The source is built from our own formula table, never from user input.
  const kernel = new Function(
    'out',
    'outOffset',
    'outStrides',
    'shape',
    'p0',
    'p1',
    'contig',
    args,
    src,
  ) as Kernel;
  byExpr.set(sig, kernel);
  return kernel;
}

/** True when every view walks memory in plain row-major order (strides may differ only on size-1 dims). */
function allContiguous(shape: readonly number[], views: readonly { strides: readonly number[] }[]): boolean {
  for (const v of views) {
    let s = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] !== 1 && v.strides[d] !== s) return false;
      s *= shape[d]!;
    }
  }
  return true;
}

/** `op` names the op for the wasm path (wasm/elementwiseWasm.ts), which takes contiguous float32 ones it was measured faster on. */
function run(expr: string, inputs: readonly View[], out: View, p0 = 0, p1 = 0, op = ''): void {
  const contig = allContiguous(out.shape, [out, ...inputs]);
  if (contig && op !== '' && elementwiseWasmRun(op, expr, NAMES[inputs.length]!, inputs, out, p0, p1)) return;
  const kernel = compile(expr, out, inputs);
  let shape: readonly number[] = out.shape;
  let outStrides: readonly number[] = out.strides;
  let strides: (readonly number[])[] = inputs.map((v) => v.strides);
  if (!contig) {
    // Merge the dims every view walks as one (kernels' coalesce, as the WebGPU launches do): longer inner loops.
    const merged = coalesce(out.shape, [out.strides, ...strides]);
    shape = merged.shape;
    outStrides = merged.strides[0]!;
    strides = merged.strides.slice(1);
  }
  const operands: (TypedArray | number | readonly number[])[] = [];
  inputs.forEach((v, k) => operands.push(v.buffer as TypedArray, v.offset, strides[k]!));
  kernel(out.buffer, out.offset, outStrides, shape, p0, p1, contig, ...operands);
}

export function unaryCpu(op: keyof typeof UNARY_FORMULAS, x: View, out: View): void {
  run(jsFormula(UNARY_FORMULAS[op], out.dtype === 'int32'), [x], out, 0, 0, op);
}

export function paramUnaryCpu(
  op: keyof typeof PARAM_UNARY_FORMULAS,
  params: readonly number[],
  x: View,
  out: View,
) {
  const int = out.dtype === 'int32';
  const [p0 = 0, p1 = 0] = int ? intParams(op, params) : params;
  run(jsFormula(PARAM_UNARY_FORMULAS[op], int), [x], out, p0, p1, op);
}

export function binaryCpu(op: keyof typeof BINARY_FORMULAS, a: View, b: View, out: View): void {
  run(jsFormula(BINARY_FORMULAS[op], out.dtype === 'int32'), [a, b], out, 0, 0, op);
}

export function whereCpu(cond: View, a: View, b: View, out: View): void {
  run('(c !== 0 ? a : b)', [cond, a, b], out);
}

export function copyCpu(x: View, out: View): void {
  const cast = out.dtype === 'int32' && x.dtype !== 'int32';
  run(cast ? FLOAT_TO_INT32.js : 'x', [x], out);
}

export function fillCpu(out: View, value: number): void {
  run('p0', [], out, value);
}
