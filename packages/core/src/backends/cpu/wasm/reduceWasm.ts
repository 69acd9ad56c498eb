import type { TypedArray } from '../../../dtype.js';
import type { ReduceOpName, View } from '../../backend.js';
import { isContiguous } from '../../../shape.js';
import { scratchBase } from './packedCache.js';
import { reduceModule } from './reduceModule.js';
import { MAX_WASM_BYTES, gemmInstance, instantiateOverMemory, wasmEnabled, wasmFloats } from './runtime.js';

/**
 * Sum, max, min, argmax and argmin of float32 rows through reduceModule.ts's wasm functions (the arg ops: the row's
 * max or min in wasm, then its first index found here), as softmaxWasm.ts runs its rows:
 * the reduced axes must be the innermost ones of a contiguous view (rows of a [rows, n] view; a whole-tensor
 * reduction is one row), chunks of whole rows are copied in one piece into the scratch above the packed-weight
 * cache, each row's multiple of 4 floats reduced to one v128, and its lanes and last 0-3 floats combined here.
 *
 * From WASM_MIN_REDUCE elements: measured by CPU time per call (process.cpuUsage, JS and wasm alternating, medians
 * of 5 rounds, as scripts/elementwise-wasm-cpu-time.mjs; 2 vCPU AMD EPYC shared, Node 20), JS / wasm in ns per
 * element: sum 42.7 / 26.2 on 1 x 4 (1.6x), 68.5 / 20.9 on 1 x 5 (3.3x), 22.4 / 6.6 on 1 x 16 (3.4x), 2.42 / 0.41
 * on 32 x 65 (5.9x), 1.37 / 0.36 on 1 x 1Mi (3.8x); max 43.9 / 33.8 on 1 x 4 (1.3x), 52.5 / 48.7 on 2 x 2 (1.08x),
 * 71.8 / 32.9 on 1 x 5 (2.2x), 24.1 / 9.4 on 1 x 16 (2.6x), 2.93 / 1.34 on 32 x 65 (2.2x), 1.92 / 0.90 on 1 x 1Mi
 * (2.1x); min as max or better (3.7x on 1 x 1Mi); argmax 27.9 / 22.7 on 1 x 8 (1.23x), 16.6 / 13.2 on 1 x 16
 * (1.25x), 4.12 / 2.67 on 32 x 65 (1.5x), 3.37 / 1.67 on 1 x 4096 (2.0x); argmin 23.5 / 21.5 on 1 x 8 (1.09x), 1.97
 * / 0.87 on 1 x 4096 (2.3x). The JS loop's per-call setup (its index arrays) dominates small reductions, so wasm
 * gains from a handful of elements: from 8 (below, the gain is within the machine's noise).
 */
type RowsFn = (rows: number, rowBytes: number, simdBytes: number, x: number, out: number) => void;
type WasmReduceOp = 'sum' | 'max' | 'min';

export const WASM_MIN_REDUCE = { value: 8 };

/** Floats per chunk of input, as softmaxWasm.ts. */
const CHUNK = 8192;

let fns: Record<WasmReduceOp, RowsFn> | null | undefined;
let runs = 0;

/** How many reductions ran in wasm so far (for tests: which path ran). */
export function reduceWasmRuns(): number {
  return runs;
}

/** The three functions, instantiated once over the matmul's memory (null: refused by the host; JS serves). */
export function reduceKernels(): Record<WasmReduceOp, RowsFn> | null {
  // Stryker disable next-line ConditionalExpression: equivalent: instantiating again gives the same functions (speed only).
  if (fns !== undefined) return fns;
  const ex = instantiateOverMemory(reduceModule);
  // Stryker disable next-line LogicalOperator: equivalent: the exports object itself has the three functions by these names.
  fns = ex && { sum: ex.sum as RowsFn, max: ex.max as RowsFn, min: ex.min as RowsFn };
  return fns;
}

/** [rows, n] when `axes` (sorted, distinct) are the innermost axes of contiguous `x`, else null. */
function rowsOf(x: View, axes: readonly number[]): [number, number] | null {
  const r = x.shape.length;
  // Stryker disable next-line ConditionalExpression: equivalent: no axes make rows of one element, each its own sum, max or min, as the JS loop copies them.
  if (axes.length === 0 || !isContiguous(x.shape, x.strides)) return null;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== r - axes.length + i) return null;
  let rows = 1;
  let n = 1;
  for (let d = 0; d < r; d++) {
    if (d < r - axes.length) rows *= x.shape[d]!;
    else n *= x.shape[d]!;
  }
  return [rows, n];
}

/**
 * Reduction `op` of float32 `x` over `axes` into contiguous `out` (reduce.ts's contract) in wasm, or false (nothing
 * written): not float32 (argmax/argmin: their index output from float32 x), other axes or strides, under WASM_MIN_REDUCE elements, wasm off, `out`
 * in x's buffer, or a row too long for the memory.
 */
export function reduceWasmRun(op: ReduceOpName, x: View, axes: readonly number[], out: View): boolean {
  const kernel: WasmReduceOp = op === 'argmax' ? 'max' : op === 'argmin' ? 'min' : op;
  const arg = kernel !== op;
  // An arg op's output is its index dtype; the others give x's.
  // Stryker disable next-line ConditionalExpression: defences: reduce.ts gives a float32 input's sum/max/min a float32 output, and never an output in the input's buffer.
  if (x.dtype !== 'float32' || (!arg && out.dtype !== 'float32') || x.buffer === out.buffer) return false;
  const shape = rowsOf(x, axes);
  if (!shape) return false;
  const [rows, n] = shape;
  if (n === 0 || rows * n < WASM_MIN_REDUCE.value) return false;
  // Stryker disable next-line StringLiteral: equivalent here: the name only labels the error of a host without SIMD.
  if (!wasmEnabled(op)) return false;
  const k = reduceKernels();
  if (!k) return false;
  const g = gemmInstance()!; // the kernels exist only where the instance does
  const simd = n & ~3;
  const perChunk = Math.max(1, Math.floor(CHUNK / n));
  const base = scratchBase(); // a multiple of 4 floats (packedCache.ts)
  const [xa, oa] = [base, base + ((perChunk * n + 3) & ~3)];
  const top = 4 * (oa + 4 * perChunk);
  if (top > MAX_WASM_BYTES) return false;
  let F: Float32Array;
  try {
    F = wasmFloats(g, top);
  } catch {
    return false; // the host would not grow the memory
  }
  const D = doublesOf(F);
  const [X, O] = [x.buffer as Float32Array, out.buffer as TypedArray];
  // Stryker disable next-line EqualityOperator: equivalent: a last chunk of no rows reduces nothing.
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const xs = x.offset + r0 * n;
    F.set(X.subarray(xs, xs + count * n), xa);
    k[kernel](count, 4 * n, 4 * simd, 4 * xa, 4 * oa);
    for (let r = 0; r < count; r++) {
      const o = oa + 4 * r;
      const row = xs + r * n;
      let v: number;
      if (kernel === 'sum') {
        // Float64 throughout; the store into float32 rounds once, as the JS loop's.
        v = D[o >> 1]! + D[(o >> 1) + 1]!;
        for (let j = simd; j < n; j++) v += X[row + j]!;
      } else {
        // Lanes of no element (simd = 0) hold the kernel's start, -Inf or +Inf, which changes no result.
        const pick = kernel === 'max' ? Math.max : Math.min; // NaN-propagating, as f32x4.max/min
        v = pick(F[o]!, F[o + 1]!, F[o + 2]!, F[o + 3]!);
        for (let j = simd; j < n; j++) v = pick(v, X[row + j]!);
        // The JS loop's index: its first NaN, or the first element equal to the extreme (-0 === +0, as its test).
        if (arg) v = v !== v ? firstNaN(X, row, n) : X.indexOf(v, row) - row;
        // The JS loop keeps the first of equal zeros (-0 or +0); the lanes do not know which came first.
        else if (v === 0) v = firstExtreme(kernel, X, row, n);
      }
      O[out.offset + r0 + r] = v;
    }
  }
  runs++;
  return true;
}

let doubles: [Float32Array, Float64Array] | null = null;

/** The float64 view of wasmFloats's view, kept while that view is (a fresh view per call costs as a small row). */
function doublesOf(F: Float32Array): Float64Array {
  // Stryker disable next-line ConditionalExpression: equivalent: a fresh view of the same memory (speed only).
  if (doubles?.[0] !== F) doubles = [F, new Float64Array(F.buffer, F.byteOffset, F.length >> 1)];
  return doubles[1];
}

/** The index of the first NaN in a row that has one. */
function firstNaN(X: Float32Array, start: number, n: number): number {
  let j = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent: the row has a NaN, where the scan stops first.
  while (j < n - 1 && X[start + j] === X[start + j]) j++;
  return j;
}

/** reduce.ts's scan of one row without NaN (the row's extreme is a zero): the first strictly better value. */
function firstExtreme(op: 'max' | 'min', X: Float32Array, start: number, n: number): number {
  let acc = op === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (let j = start; j < start + n; j++) {
    const v = X[j]!;
    if (op === 'max' ? v > acc : v < acc) acc = v;
  }
  return acc;
}
