import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';
import { KC, type Packed, computeRows } from './matmulKernel.js';
import { PARALLEL_MACS, computeParallel, sharedScratch } from './matmulThreads.js';
import { cachedB, packAWasm, packBWasm, planWasmMatmul, runWasmMatmul } from './wasm/matmulWasm.js';
import { wasmEnabled } from './wasm/runtime.js';

/**
 * Batched matmul on the CPU, any strides (transposes are swapped strides, shared batch dims stride 0).
 *
 * - Small or thin products (a few rows, a few columns, a short K) run unpacked: `direct` computes 2x4 blocks of
 *   dot products straight from the strided operands, unless B is in the wasm cache (below).
 * - Larger ones pack A into dense rows and B into panels of four columns, K chunk by K chunk (the layout of
 *   matmulKernel.ts), so the kernel reads both sequentially whatever the original strides; `computeRows` there
 *   sweeps each B panel over MC rows of packed A with a 4x4 register-blocked kernel, on this thread and on the
 *   worker alike. Products of at least PARALLEL_MACS multiply-adds are split between two threads
 *   (matmulThreads.ts), which share the same packed layout.
 * - A batch whose B is shared (a Linear layer over [T, N, in]) is one tall product when A's batch dims fold
 *   into its rows; otherwise an operand shared across the batch is packed once.
 * - float32 products run in wasm (wasm/matmulWasm.ts), where a B read again at the same storage version (a
 *   weight, at every step) stays packed between products (wasm/packedCache.ts).
 *
 * Sums are accumulated in float64 locals (so int32 is exact below 2^53 and wraps like Int32Array stores).
 * Scratch buffers are module-level and grow as needed; nothing is allocated per element or per tile.
 */

let scratchA: Float64Array = new Float64Array(0);
let scratchB: Float64Array = new Float64Array(0);

function grow(a: Float64Array, n: number): Float64Array {
  return a.length >= n ? a : new Float64Array(Math.max(n, a.length * 2));
}

/**
 * out = A B, or with `addend` (a rank-2 view broadcast to out's [M, N], from addmm) out = addend + A B: the wasm
 * kernel then starts its accumulators from the addend instead of zeros, the JavaScript kernels add it afterwards.
 */
export function matmulCpu(a: View, b: View, out: View, addend?: View): void {
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = a.shape[r - 1]!;
  let batch = 1;
  for (let d = 0; d < r - 2; d++) batch *= out.shape[d]!;
  const O = out.buffer as TypedArray;
  if (M === 0 || N === 0 || batch === 0) return;
  if (K === 0) {
    O.fill(0, out.offset, out.offset + batch * M * N);
    if (addend) addTo(O, out.offset, addend, M, N);
    return;
  }
  const A = a.buffer as TypedArray;
  const B = b.buffer as TypedArray;
  const ars = a.strides[r - 2]!;
  const acs = a.strides[r - 1]!;
  const brs = b.strides[r - 2]!;
  const bcs = b.strides[r - 1]!;
  // A shared B and batch dims of A that continue its rows: one [batch * M, K] x [K, N] product.
  let rows = M;
  // Stryker disable next-line BlockStatement: not folding only costs time (batch products of the same values).
  if (batch > 1 && sharedAcrossBatch(b, out.shape) && foldsIntoRows(a, out.shape, M * ars)) {
    rows = batch * M;
    batch = 1;
  }
  // Stryker disable next-line ConditionalExpression: which path runs (thin JS loop or packed wasm) is speed; both give the product up to float32 rounding.
  const small = rows * N * K < 4096;
  const thin = small || rows < 8 || N < 4 || K < 8;
  const wasm = out.dtype === 'float32' && !small && N >= 4 && K >= 8 && wasmEnabled('matmul');
  // A B packed earlier (a weight read at every step) is not packed again, and makes wasm pay even for thin
  // products (batch 1 to 8), where copying B in would cost as much as the product.
  const cached =
    wasm && (batch === 1 || sharedAcrossBatch(b, out.shape)) ? cachedB(B, b, brs, bcs, K, N) : null;
  if (wasm && (cached || !thin)) {
    const plan = planWasmMatmul(rows, N, K, cached?.off ?? null);
    if (plan) {
      if (cached && !cached.filled) {
        packBWasm(plan, B, b.offset, brs, bcs);
        cached.fill();
      }
      let packedAo = -1;
      let packedBo = cached ? b.offset : -1;
      forEachBatch(a, b, out.shape, batch, (ao, bo, bi) => {
        if (ao !== packedAo) packAWasm(plan, A, ao, ars, acs);
        if (bo !== packedBo) packBWasm(plan, B, bo, brs, bcs);
        packedAo = ao;
        packedBo = bo;
        runWasmMatmul(plan, O, out.offset + bi * rows * N, addend);
      });
      return;
    }
  }
  if (thin) {
    forEachBatch(a, b, out.shape, batch, (ao, bo, bi) =>
      direct(A, ao, ars, acs, B, bo, brs, bcs, O, out.offset + bi * rows * N, rows, N, K),
    );
    if (addend) addTo(O, out.offset, addend, M, N);
    return;
  }
  const Mp = (rows + 3) & ~3;
  const Np = (N + 3) & ~3;
  // Stryker disable next-line EqualityOperator: which products the worker thread shares is speed; the values are the same.
  const shared = rows * N * K >= PARALLEL_MACS ? sharedScratch(Mp * K, Np * K, rows * N) : null;
  if (!shared) {
    scratchA = grow(scratchA, Mp * K);
    scratchB = grow(scratchB, Np * K);
  }
  const p: Packed = { PA: shared?.PA ?? scratchA, PB: shared?.PB ?? scratchB, M: rows, N, K };
  // An operand shared across the batch (stride 0) keeps its offset: it is packed once.
  let packedAo = -1;
  let packedBo = -1;
  forEachBatch(a, b, out.shape, batch, (ao, bo, bi) => {
    if (ao !== packedAo) packA(A, ao, ars, acs, p);
    if (bo !== packedBo) packB(B, bo, brs, bcs, p);
    packedAo = ao;
    packedBo = bo;
    const oo = out.offset + bi * rows * N;
    if (!shared) return computeRows(p, O, oo, 0, p.M);
    computeParallel(p);
    const C = shared.C;
    for (let i = 0; i < rows * N; i++) O[oo + i] = C[i]!;
  });
  if (addend) addTo(O, out.offset, addend, M, N);
}

/** O[oo + i N + j] += c[i, j] for the M x N view c (any strides: a bias's rows have stride 0). */
function addTo(O: TypedArray, oo: number, c: View, M: number, N: number): void {
  const C = c.buffer as TypedArray;
  const [rs, cs] = c.strides as [number, number];
  for (let i = 0; i < M; i++) {
    const s = c.offset + i * rs;
    const o = oo + i * N;
    for (let j = 0; j < N; j++) O[o + j] += C[s + j * cs]!;
  }
}

/** Calls fn(offset of A, offset of B, batch index) for each batch, odometer-style over the leading dims. */
function forEachBatch(
  a: View,
  b: View,
  shape: readonly number[],
  batch: number,
  fn: (ao: number, bo: number, bi: number) => void,
): void {
  const lead = shape.length - 2;
  let ao = a.offset;
  let bo = b.offset;
  if (batch === 1) return fn(ao, bo, 0);
  const idx = new Int32Array(lead);
  for (let bi = 0; bi < batch; bi++) {
    fn(ao, bo, bi);
    for (let d = lead - 1; d >= 0; d--) {
      ao += a.strides[d]!;
      bo += b.strides[d]!;
      if (++idx[d]! < shape[d]!) break;
      ao -= a.strides[d]! * shape[d]!;
      bo -= b.strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function sharedAcrossBatch(b: View, shape: readonly number[]): boolean {
  // Stryker disable next-line ArithmeticOperator: past the batch dims the loop reaches undefined strides and returns false: it only stops the fold (speed).
  for (let d = 0; d < shape.length - 2; d++) if (b.strides[d] !== 0 && shape[d] !== 1) return false;
  return true;
}

/** Whether A's batch dims continue its row stride (batch-major rows), so that they fold into M. */
function foldsIntoRows(a: View, shape: readonly number[], next: number): boolean {
  for (let d = shape.length - 3; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (a.strides[d] !== next) return false;
    next *= shape[d]!;
  }
  return true;
}

/** Pack A, chunk by chunk along K: rows of kc values at PA[Mp * k0 + i * kc]; rows M..Mp-1 are zero. */
function packA(A: TypedArray, ao: number, ars: number, acs: number, p: Packed): void {
  const { PA, M, K } = p;
  const Mp = (M + 3) & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const base = Mp * k0;
    let i = 0;
    if (ars === 1 && acs !== 1) {
      // Transposed A: four rows at a time read four neighbouring values per k.
      for (; i + 3 < M; i += 4) {
        let src = ao + i + k0 * acs;
        let d = base + i * kc;
        const end = d + kc;
        for (; d < end; d++, src += acs) {
          PA[d] = A[src]!;
          PA[d + kc] = A[src + 1]!;
          PA[d + 2 * kc] = A[src + 2]!;
          PA[d + 3 * kc] = A[src + 3]!;
        }
      }
    }
    for (; i < M; i++) {
      let src = ao + i * ars + k0 * acs;
      const d = base + i * kc;
      for (let k = 0; k < kc; k++, src += acs) PA[d + k] = A[src]!;
    }
    PA.fill(0, base + M * kc, base + Mp * kc);
  }
}

/** Pack B, chunk by chunk along K: panels of four columns, k-major, at PB[Np * k0 + j * kc]; padding is zero. */
function packB(B: TypedArray, bo: number, brs: number, bcs: number, p: Packed): void {
  const { PB, N, K } = p;
  const Np = (N + 3) & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const base = Np * k0;
    for (let j = 0; j < Np; j += 4) {
      const dst = base + j * kc;
      let src = bo + k0 * brs + j * bcs;
      if (j + 3 < N && brs !== 1) {
        // Rows of B (row-major, or any layout whose columns are not contiguous): four values per k.
        const end = dst + 4 * kc;
        for (let d = dst; d < end; d += 4, src += brs) {
          PB[d] = B[src]!;
          PB[d + 1] = B[src + bcs]!;
          PB[d + 2] = B[src + 2 * bcs]!;
          PB[d + 3] = B[src + 3 * bcs]!;
        }
        continue;
      }
      // Contiguous columns (a transposed B), or the last partial panel: column by column.
      for (let c = 0; c < 4; c++, src += bcs) {
        if (j + c >= N) {
          for (let k = 0; k < kc; k++) PB[dst + 4 * k + c] = 0;
          continue;
        }
        let s = src;
        for (let k = 0; k < kc; k++, s += brs) PB[dst + 4 * k + c] = B[s]!;
      }
    }
  }
}

/**
 * Unpacked product for small and thin shapes (matrix-vector, batch-1 recurrences, outer products, a few output
 * columns): blocks of two rows by four columns of dot products, read straight from the strided operands. Each
 * loaded value of A serves four columns and each of B two rows; the output is written once.
 */
function direct(
  A: TypedArray,
  ao: number,
  ars: number,
  acs: number,
  B: TypedArray,
  bo: number,
  brs: number,
  bcs: number,
  O: TypedArray,
  oo: number,
  M: number,
  N: number,
  K: number,
): void {
  const b1 = bcs | 0;
  const b2 = (2 * bcs) | 0;
  const b3 = (3 * bcs) | 0;
  for (let i = 0; i < M; i += 2) {
    const a0 = ao + i * ars;
    const o = oo + i * N;
    const pair = i + 1 < M;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      let p = a0 | 0;
      let q = (bo + j * bcs) | 0;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      if (pair) {
        let s10 = 0;
        let s11 = 0;
        let s12 = 0;
        let s13 = 0;
        const r1 = ars | 0;
        for (let k = 0; k < K; k++, p = (p + acs) | 0, q = (q + brs) | 0) {
          const x0 = A[p]!;
          const x1 = A[(p + r1) | 0]!;
          const y0 = B[q]!;
          const y1 = B[(q + b1) | 0]!;
          const y2 = B[(q + b2) | 0]!;
          const y3 = B[(q + b3) | 0]!;
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
        }
        O[o + N + j] = s10;
        O[o + N + j + 1] = s11;
        O[o + N + j + 2] = s12;
        O[o + N + j + 3] = s13;
      } else {
        for (let k = 0; k < K; k++, p = (p + acs) | 0, q = (q + brs) | 0) {
          const x0 = A[p]!;
          s00 += x0 * B[q]!;
          s01 += x0 * B[(q + b1) | 0]!;
          s02 += x0 * B[(q + b2) | 0]!;
          s03 += x0 * B[(q + b3) | 0]!;
        }
      }
      O[o + j] = s00;
      O[o + j + 1] = s01;
      O[o + j + 2] = s02;
      O[o + j + 3] = s03;
    }
    for (; j < N; j++) {
      let p = a0 | 0;
      let q = (bo + j * bcs) | 0;
      let s0 = 0;
      let s1 = 0;
      const r1 = pair ? ars | 0 : 0;
      for (let k = 0; k < K; k++, p = (p + acs) | 0, q = (q + brs) | 0) {
        const y = B[q]!;
        s0 += A[p]! * y;
        s1 += A[(p + r1) | 0]! * y;
      }
      O[o + j] = s0;
      if (pair) O[o + N + j] = s1;
    }
  }
}
