import type { View } from '../../backend.js';
import { wasmApi } from './api.js';
import { elementwiseModule, elementwiseWasm } from './elementwiseModule.js';
import { wasmFeatures } from './features.js';
import { scratchBase } from './packedCache.js';
import { MAX_WASM_BYTES, PAGE, gemmInstance, wasmEnabled, wasmFloats } from './runtime.js';

/**
 * Runs an elementwise formula through its generated wasm function (elementwiseModule.ts) on float32 operands that
 * are all contiguous and of one shape: chunk by chunk, the inputs are copied into the scratch of the one wasm memory
 * (above the matmul's packed-weight cache; the matmul's worker threads use that memory only during a matmul call,
 * which never overlaps this main-thread kernel), the function runs, the result is copied out. Each formula's module
 * is compiled on first use (a few hundred bytes) and shares the matmul's memory.
 *
 * Only where it was measured faster (WASM_MIN): the copies cost ~0.1-0.2 ns per float each way, which the
 * vectorised exp, log, tanh and sigmoid repay many times, and the one-instruction formulas (add, mul, ...) too from
 * a hundred elements or so: V8 runs their JS loop one element at a time, ~1.5-2.5 ns each.
 */
/** (bytes, out, x, p0, p1) or (bytes, out, a, b, p0, p1): a JS call passes an extra argument harmlessly. */
type KernelFn = (bytes: number, out: number, x: number, ...rest: number[]) => void;

/**
 * The ops that run in wasm, and from how many elements: where the wasm call (~0.2 us whatever the size: the copies'
 * setup, the call) is repaid by at least ~1.25x. Measured by CPU time per call (scripts/elementwise-wasm-cpu-time.mjs:
 * process.cpuUsage, JS and wasm alternating, medians of 5 rounds; 2 vCPU AMD EPYC shared, Node 20), JS / wasm in ns
 * per element:
 * - exp 14.8 / 8.7 at 32 elements (1.7x), 10.0 / 2.8 at 512, 14.1 / 2.4 at 64Ki (5.9x); tanh 20.9 / 9.1 at 32
 *   (2.3x), 15.5 / 3.4 at 4Ki (4.6x); sigmoid 17.1 / 12.4 at 32 (1.4x), 15.6 / 4.2 at 64Ki (3.7x); log 18.0 / 18.1
 *   at 16 (1.0x), 13.0 / 10.6 at 32 (1.2x), 13.3 / 3.5 at 64Ki (3.8x): from 32.
 * - sqrt 7.3 / 6.8 at 32 (1.07x), 4.9 / 3.9 at 64 (1.27x); clamp 7.7 / 7.3 at 32, 5.5 / 3.9 at 64 (1.43x): from 64.
 * - the other one-instruction formulas (neg, abs, sign, relu, step, square, reciprocal; add, sub, mul, div, max,
 *   min and the comparisons): ~1.0x at 64 (relu 4.2 / 3.7, mul 5.1 / 4.8, gt 5.0 / 4.8), 1.28-1.41x at 128 (relu
 *   3.0 / 2.1, mul 3.6 / 2.8, max 3.6 / 2.7), 2-3.5x from 1Ki to 64Ki (the JS loop runs ~1.5-2.5 ns per element,
 *   the copies and the SIMD loop ~0.5-0.9): from 128.
 * - affine stays in JS whatever the size (3.4x at 4Ki): the JS loop computes x p0 + p1 in doubles and rounds once,
 *   float32 SIMD would round p0, p1 and the product too, and scalar arithmetic (add(x, 0.1)) should give the same
 *   bits on both paths. cos, sin and pow are not vectorised (elementwiseModule.ts).
 */
const TRANSCENDENTAL = 32;
const CHEAP = 128;
export const WASM_MIN: Record<string, number> = {
  exp: TRANSCENDENTAL,
  log: TRANSCENDENTAL,
  tanh: TRANSCENDENTAL,
  sigmoid: TRANSCENDENTAL,
  sqrt: 64,
  clamp: 64,
  ...Object.fromEntries(
    ['neg', 'abs', 'sign', 'relu', 'step', 'square', 'reciprocal'].map((op) => [op, CHEAP]),
  ),
  ...Object.fromEntries(
    ['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq'].map((op) => [op, CHEAP]),
  ),
};

/** Floats per operand per call: the chunk of every operand stays in the core's L2 cache. */
const CHUNK = 8192;

const cache = new Map<string, KernelFn | null>();
let runs = 0;

/** How many elementwise calls ran in wasm so far (for tests: which path ran). */
export function elementwiseWasmRuns(): number {
  return runs;
}

function compile(expr: string, names: readonly string[]): KernelFn | null {
  const g = gemmInstance();
  if (!g) return null;
  const body = elementwiseWasm(expr, names);
  // Stryker disable next-line ConditionalExpression: equivalent: elementwiseModule(null) would throw into the catch below.
  if (!body) return null;
  try {
    const limits = { maximum: MAX_WASM_BYTES / PAGE, shared: wasmFeatures().sharedMemory };
    const module = new wasmApi!.Module(elementwiseModule(body, limits));
    return new wasmApi!.Instance(module, { env: { memory: g.memory } }).exports.kernel as KernelFn;
  } catch {
    return null;
  }
}

/** The kernel of `expr`, compiled once (null: not vectorisable or refused by the host; JS serves). */
export function elementwiseKernel(expr: string, names: readonly string[]): KernelFn | null {
  let fn = cache.get(expr);
  if (fn === undefined) {
    fn = compile(expr, names);
    cache.set(expr, fn);
  }
  return fn;
}

/**
 * Op `op` (formula `expr` over `names`) in wasm, or false (nothing written) where it does not run there: an op not
 * in WASM_MIN or below its size, wasm off, an operand that is not float32, an output that shares a buffer with an
 * input at another offset (the JS loop's element-by-element order would then matter). The caller has checked that
 * every view is contiguous in the output's shape.
 */
export function elementwiseWasmRun(
  op: string,
  expr: string,
  names: readonly string[],
  inputs: readonly View[],
  out: View,
  p0: number,
  p1: number,
): boolean {
  const min = WASM_MIN[op];
  // WASM_MIN names unary and binary ops only: one or two inputs.
  if (min === undefined || out.dtype !== 'float32') return false;
  let n = 1;
  for (const s of out.shape) n *= s;
  if (n === 0 || n < min) return false;
  for (const v of inputs) {
    if (v.dtype !== 'float32' || (v.buffer === out.buffer && v.offset !== out.offset)) return false;
  }
  if (!wasmEnabled(op)) return false;
  const fn = elementwiseKernel(expr, names);
  if (!fn) return false;
  const g = gemmInstance()!; // a kernel exists only where the instance does
  // Above the packed-weight cache, which keeps its top a multiple of 4 floats (16 bytes: aligned f32x4).
  const base = scratchBase();
  let F: Float32Array;
  try {
    F = wasmFloats(g, 4 * (base + 3 * CHUNK));
  } catch {
    return false; // the host would not grow the memory
  }
  const O = out.buffer as Float32Array;
  const [x, y] = inputs as [View, View | undefined];
  const X = x.buffer as Float32Array;
  const Y = y?.buffer as Float32Array | undefined;
  // Addresses in floats: one chunk per input, then the output.
  // Stryker disable next-line ArithmeticOperator: equivalent: an output chunk over the first input's is read at each index before it is written.
  const [xa, ya, oa] = [base, base + CHUNK, base + 2 * CHUNK];
  // Stryker disable next-line EqualityOperator: equivalent: at s = n the chunk is empty (nothing copied, the kernel's loop does not run).
  for (let s = 0; s < n; s += CHUNK) {
    const len = Math.min(CHUNK, n - s);
    F.set(X.subarray(x.offset + s, x.offset + s + len), xa);
    if (Y) F.set(Y.subarray(y!.offset + s, y!.offset + s + len), ya);
    fn(4 * ((len + 3) & ~3), 4 * oa, 4 * xa, Y ? 4 * ya : p0, Y ? p0 : p1, Y ? p1 : 0);
    O.set(F.subarray(oa, oa + len), out.offset + s);
  }
  runs++;
  return true;
}
