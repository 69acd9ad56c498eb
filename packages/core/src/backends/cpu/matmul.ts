import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';
import { KC, type Packed, computeRows } from './matmulKernel.js';
import { computeParallel, sharedScratch } from './matmulThreads.js';

/**
 * Batched matmul on the CPU, any strides. Each batch packs A into dense rows and B into panels of four columns
 * (so the kernel reads both sequentially whatever the original strides, transposes included), then runs the 4x4
 * register-blocked kernel of matmulKernel.ts over K in cache-sized chunks. Large products are split between two
 * threads. Scratch buffers are reused across calls; no allocation per element, no closures in the loops.
 */

/** Products of at least this many multiply-adds go to two threads (below it, waking the worker costs more). */
const PARALLEL_MACS = 1 << 21;

let scratchA: Float64Array = new Float64Array(0);
let scratchB: Float64Array = new Float64Array(0);

function grow(a: Float64Array, n: number): Float64Array {
  return a.length >= n ? a : new Float64Array(Math.max(n, a.length * 2));
}

export function matmulCpu(a: View, b: View, out: View): void {
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
    return;
  }
  if (M < 4 || K < 8) return matmulThin(a, b, out, M, N, K, batch);
  const idx = new Int32Array(Math.max(r - 2, 1));
  let ao = a.offset;
  let bo = b.offset;
  for (let bi = 0; bi < batch; bi++) {
    matmul2d(a, ao, b, bo, O, out.offset + bi * M * N, M, N, K);
    // Advance the batch odometer over the leading dims.
    for (let d = r - 3; d >= 0; d--) {
      ao += a.strides[d]!;
      bo += b.strides[d]!;
      if (++idx[d]! < out.shape[d]!) break;
      ao -= a.strides[d]! * out.shape[d]!;
      bo -= b.strides[d]! * out.shape[d]!;
      idx[d] = 0;
    }
  }
}

function matmul2d(
  a: View,
  ao: number,
  b: View,
  bo: number,
  O: TypedArray,
  oo: number,
  M: number,
  N: number,
  K: number,
) {
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  const shared = M * N * K >= PARALLEL_MACS ? sharedScratch(Mp * K, Np * K, M * N) : null;
  if (!shared) {
    scratchA = grow(scratchA, Mp * K);
    scratchB = grow(scratchB, Np * K);
  }
  const p: Packed = { PA: shared?.PA ?? scratchA, PB: shared?.PB ?? scratchB, M, N, K };
  pack(a, ao, b, bo, p);
  if (!shared) return computeRows(p, O, oo, 0, M);
  computeParallel(p);
  const C = shared.C;
  for (let i = 0; i < M * N; i++) O[oo + i] = C[i]!;
}

/** Pack all of A and B, chunk by chunk along K (see matmulKernel.ts for the layout); padding is zero. */
function pack(a: View, ao: number, b: View, bo: number, p: Packed): void {
  const { PA, PB, M, N, K } = p;
  const r = a.shape.length;
  const A = a.buffer as TypedArray;
  const B = b.buffer as TypedArray;
  const ars = a.strides[r - 2]!;
  const acs = a.strides[r - 1]!;
  const brs = b.strides[r - 2]!;
  const bcs = b.strides[r - 1]!;
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const pa = Mp * k0;
    const pb = Np * k0;
    for (let i = 0; i < Mp; i++) {
      const dst = pa + i * kc;
      if (i >= M) {
        PA.fill(0, dst, dst + kc);
        continue;
      }
      let src = ao + i * ars + k0 * acs;
      for (let k = 0; k < kc; k++, src += acs) PA[dst + k] = A[src]!;
    }
    for (let j = 0; j < Np; j += 4) {
      const dst = pb + j * kc;
      for (let c = 0; c < 4; c++) {
        const col = j + c;
        if (col >= N) {
          for (let k = 0; k < kc; k++) PB[dst + k * 4 + c] = 0;
          continue;
        }
        let src = bo + k0 * brs + col * bcs;
        for (let k = 0; k < kc; k++, src += brs) PB[dst + k * 4 + c] = B[src]!;
      }
    }
  }
}

/**
 * A few rows (matrix-vector, batch-1 recurrences) or a short K (outer products, as in weight gradients of one
 * sample): row by row, accumulating scaled rows of B, which streams B in
 * its storage order when it is row-major. Packing would cost more than it saves here.
 */
function matmulThin(a: View, b: View, out: View, M: number, N: number, K: number, batch: number): void {
  const r = out.shape.length;
  const A = a.buffer as TypedArray;
  const B = b.buffer as TypedArray;
  const O = out.buffer as TypedArray;
  const ars = a.strides[r - 2]!;
  const acs = a.strides[r - 1]!;
  const brs = b.strides[r - 2]!;
  const bcs = b.strides[r - 1]!;
  const row = new Float64Array(N);
  for (let bi = 0; bi < batch; bi++) {
    let ao = a.offset;
    let bo = b.offset;
    let rem = bi;
    for (let d = r - 3; d >= 0; d--) {
      const q = rem % out.shape[d]!;
      rem = (rem - q) / out.shape[d]!;
      ao += q * a.strides[d]!;
      bo += q * b.strides[d]!;
    }
    for (let i = 0; i < M; i++) {
      if (brs === 1 && bcs !== 1) {
        // B's columns are contiguous (a transposed weight): dot products walk both operands in order.
        const ai = ao + i * ars;
        for (let j = 0; j < N; j++) {
          const base = bo + j * bcs;
          // Four partial sums break the add dependency chain.
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let k = 0;
          if (acs === 1) {
            for (; k + 3 < K; k += 4) {
              s0 += A[ai + k]! * B[base + k]!;
              s1 += A[ai + k + 1]! * B[base + k + 1]!;
              s2 += A[ai + k + 2]! * B[base + k + 2]!;
              s3 += A[ai + k + 3]! * B[base + k + 3]!;
            }
          }
          for (; k < K; k++) s0 += A[ai + k * acs]! * B[base + k]!;
          O[out.offset + (bi * M + i) * N + j] = s0 + s1 + s2 + s3;
        }
        continue;
      }
      const o = out.offset + (bi * M + i) * N;
      if (K < 4 && bcs === 1) {
        // Outer-product-like (a weight gradient of one sample): write each output once per k, straight into O.
        for (let k = 0; k < K; k++) {
          const x = A[ao + i * ars + k * acs]!;
          const base = bo + k * brs;
          if (k === 0) for (let j = 0; j < N; j++) O[o + j] = x * B[base + j]!;
          else for (let j = 0; j < N; j++) O[o + j] = O[o + j]! + x * B[base + j]!;
        }
        continue;
      }
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const x = A[ao + i * ars + k * acs]!;
        if (x === 0) continue;
        const base = bo + k * brs;
        if (bcs === 1) for (let j = 0; j < N; j++) row[j] = row[j]! + x * B[base + j]!;
        else for (let j = 0; j < N; j++) row[j] = row[j]! + x * B[base + j * bcs]!;
      }
      O.set(row, o);
    }
  }
}
