import type { View } from '../../backend.js';
import { scratchBase } from './packedCache.js';
import { MAX_WASM_BYTES, gemmInstance, instantiateOverMemory, wasmEnabled, wasmFloats } from './runtime.js';
import { softmaxModule } from './softmaxModule.js';

/**
 * Softmax and log-softmax rows through softmaxModule.ts's wasm functions, as elementwiseWasm.ts runs its kernels:
 * chunks of whole rows copied into the scratch above the packed-weight cache (each row padded with -Inf to a
 * multiple of 4), computed, copied out.
 *
 * From WASM_MIN_SOFTMAX elements: measured by CPU time per call (scripts/elementwise-wasm-cpu-time.mjs softmax,
 * as elementwiseWasm.ts's WASM_MIN), JS / wasm in ns per element: softmax 29.0 / 13.8 on one row of 16 (2.1x),
 * 25.2 / 7.0 on 32 x 65 (3.6x), 25.0 / 3.5 on 1 x 4096 (7.2x); log-softmax 20.2 / 15.3 on 1 x 16 (1.3x), 15.9 /
 * 7.2 on 32 x 65 (2.2x), 15.7 / 3.4 on 1 x 4096 (4.6x). Below 16 elements the JS loop runs (not measured less).
 */
type RowsFn = (rows: number, rowBytes: number, x: number, out: number) => void;

export const WASM_MIN_SOFTMAX = { value: 16 };

/** Floats per chunk (input and output each), as elementwiseWasm.ts. */
const CHUNK = 8192;

let fns: { softmax: RowsFn; logSoftmax: RowsFn } | null | undefined;
let runs = 0;

/** How many softmax calls ran in wasm so far (for tests: which path ran). */
export function softmaxWasmRuns(): number {
  return runs;
}

/** The two functions, instantiated once over the matmul's memory (null: refused by the host; JS serves). */
export function softmaxKernels(): { softmax: RowsFn; logSoftmax: RowsFn } | null {
  if (fns !== undefined) return fns;
  const ex = instantiateOverMemory(softmaxModule);
  fns = ex && { softmax: ex.softmax as RowsFn, logSoftmax: ex.logSoftmax as RowsFn };
  return fns;
}

/**
 * Softmax (or log-softmax) of the rows of contiguous `x` into contiguous `out` (the CPU's softmax contract) in wasm,
 * or false (nothing written): not float32, under WASM_MIN_SOFTMAX elements, wasm off, `out` overlapping `x` at
 * another offset, or a row too long for the memory.
 */
export function softmaxWasmRun(x: View, out: View, logOut: boolean, rows: number, n: number): boolean {
  const size = rows * n;
  // The ops give out x's dtype.
  if (x.dtype !== 'float32' || size === 0 || size < WASM_MIN_SOFTMAX.value) return false;
  if (x.buffer === out.buffer && x.offset !== out.offset) return false;
  // Stryker disable next-line StringLiteral: equivalent here: the name only labels the error of a host without SIMD.
  if (!wasmEnabled(logOut ? 'logSoftmax' : 'softmax')) return false;
  const k = softmaxKernels();
  if (!k) return false;
  const g = gemmInstance()!; // the kernels exist only where the instance does
  const np = (n + 3) & ~3;
  const perChunk = Math.max(1, Math.floor(CHUNK / np));
  const base = scratchBase(); // a multiple of 4 floats (packedCache.ts)
  const [xa, oa] = [base, base + perChunk * np];
  if (4 * (oa + perChunk * np) > MAX_WASM_BYTES) return false;
  let F: Float32Array;
  try {
    F = wasmFloats(g, 4 * (oa + perChunk * np));
  } catch {
    return false; // the host would not grow the memory
  }
  const [X, O] = [x.buffer as Float32Array, out.buffer as Float32Array];
  const fn = logOut ? k.logSoftmax : k.softmax;
  // Stryker disable next-line EqualityOperator: equivalent: at r0 = rows the chunk has no row (the kernel returns at once).
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const [xs, os] = [x.offset + r0 * n, out.offset + r0 * n];
    // Stryker disable next-line ConditionalExpression: equivalent: the row-by-row copy below gives the same floats.
    if (np === n) F.set(X.subarray(xs, xs + count * n), xa);
    else {
      // Stryker disable next-line EqualityOperator: equivalent: a row past the chunk lands in the output block, which the kernel overwrites.
      for (let r = 0; r < count; r++) {
        F.set(X.subarray(xs + r * n, xs + (r + 1) * n), xa + r * np);
        F.fill(Number.NEGATIVE_INFINITY, xa + r * np + n, xa + (r + 1) * np);
      }
    }
    fn(count, 4 * np, 4 * xa, 4 * oa);
    // Stryker disable next-line ConditionalExpression: equivalent: the row-by-row copy below gives the same floats.
    if (np === n) O.set(F.subarray(oa, oa + count * n), os);
    else for (let r = 0; r < count; r++) O.set(F.subarray(oa + r * np, oa + r * np + n), os + r * n);
  }
  runs++;
  // Stryker disable next-line BooleanLiteral: equivalent: false would let the JS loop recompute the rows (slower, within the bound).
  return true;
}
