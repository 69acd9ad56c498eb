import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';

/**
 * Batched matmul on the CPU, any strides. Each batch is computed by packing A into dense rows and B into panels of
 * four columns (so the inner loop reads both sequentially whatever the original strides, transposes included),
 * then a 4x4 register-blocked kernel over K in cache-sized chunks. Scratch buffers are reused across calls; no
 * allocation per element, no closures in the loops.
 */

const KC = 256; // K chunk: a 4-column panel of B (4 * KC values) and 4 rows of A stay in L1

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
  if ((M < 4 || K < 8) && K > 0) return matmulThin(a, b, out, M, N, K, batch);
  if (K === 0) {
    O.fill(0, out.offset, out.offset + batch * M * N);
    return;
  }
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
): void {
  const r = a.shape.length;
  const A = a.buffer as TypedArray;
  const B = b.buffer as TypedArray;
  const ars = a.strides[r - 2]!;
  const acs = a.strides[r - 1]!;
  const brs = b.strides[r - 2]!;
  const bcs = b.strides[r - 1]!;
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  scratchA = grow(scratchA, Mp * KC);
  scratchB = grow(scratchB, Np * KC);
  const PA = scratchA;
  const PB = scratchB;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    // Pack A[:, k0:k0+kc] as rows of kc (rows past M are zero).
    for (let i = 0; i < Mp; i++) {
      const dst = i * kc;
      if (i >= M) {
        PA.fill(0, dst, dst + kc);
        continue;
      }
      let src = ao + i * ars + k0 * acs;
      for (let k = 0; k < kc; k++, src += acs) PA[dst + k] = A[src]!;
    }
    // Pack B[k0:k0+kc, :] as panels of 4 columns, k-major inside a panel (columns past N are zero).
    for (let j = 0; j < Np; j += 4) {
      const dst = j * kc;
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
    const first = k0 === 0;
    // biome-ignore format: the 4x4 accumulator block reads best as a grid
    for (let i = 0; i < M; i += 4) {
      const a0 = i * kc;
      const a1 = a0 + kc;
      const a2 = a1 + kc;
      const a3 = a2 + kc;
      for (let j = 0; j < N; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let p = j * kc;
        for (let k = 0; k < kc; k++, p += 4) {
          const b0 = PB[p]!;
          const b1 = PB[p + 1]!;
          const b2 = PB[p + 2]!;
          const b3 = PB[p + 3]!;
          const x0 = PA[a0 + k]!;
          const x1 = PA[a1 + k]!;
          const x2 = PA[a2 + k]!;
          const x3 = PA[a3 + k]!;
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        store(O, oo, N, M, i, j, first, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
      }
    }
  }
}

/** Write (or add, after the first K chunk) a 4x4 block, clipped to the matrix edges. */
// biome-ignore format: the 4x4 block reads best as a grid
function store(
  O: TypedArray, oo: number, N: number, M: number, i: number, j: number, first: boolean,
  c00: number, c01: number, c02: number, c03: number,
  c10: number, c11: number, c12: number, c13: number,
  c20: number, c21: number, c22: number, c23: number,
  c30: number, c31: number, c32: number, c33: number,
): void {
  const rows = Math.min(4, M - i);
  const cols = Math.min(4, N - j);
  if (rows === 4 && cols === 4) {
    let p = oo + i * N + j;
    if (first) {
      O[p] = c00; O[p + 1] = c01; O[p + 2] = c02; O[p + 3] = c03; p += N;
      O[p] = c10; O[p + 1] = c11; O[p + 2] = c12; O[p + 3] = c13; p += N;
      O[p] = c20; O[p + 1] = c21; O[p + 2] = c22; O[p + 3] = c23; p += N;
      O[p] = c30; O[p + 1] = c31; O[p + 2] = c32; O[p + 3] = c33;
    } else {
      O[p] += c00; O[p + 1] += c01; O[p + 2] += c02; O[p + 3] += c03; p += N;
      O[p] += c10; O[p + 1] += c11; O[p + 2] += c12; O[p + 3] += c13; p += N;
      O[p] += c20; O[p + 1] += c21; O[p + 2] += c22; O[p + 3] += c23; p += N;
      O[p] += c30; O[p + 1] += c31; O[p + 2] += c32; O[p + 3] += c33;
    }
    return;
  }
  const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let rr = 0; rr < rows; rr++) {
    for (let cc = 0; cc < cols; cc++) {
      const p = oo + (i + rr) * N + j + cc;
      O[p] = first ? block[rr * 4 + cc]! : O[p]! + block[rr * 4 + cc]!;
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
