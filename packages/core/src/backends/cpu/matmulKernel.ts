/**
 * The packed 4x4 register kernel of the CPU matmul, with no imports so that the matmul worker threads can load it
 * too. Packing (matmul.ts) lays A out chunk by chunk as rows of up to KC values, and B as panels of four columns,
 * k-major inside a panel; `computeRows` turns rows [i0, i1) of the packed operands into finished rows of C.
 */

/** K chunk: a 4-column panel of B (4 * KC values) and 4 rows of A stay in L1. */
export const KC = 256;

export interface Packed {
  readonly PA: Float64Array;
  readonly PB: Float64Array;
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

/** Rows of packed A that one sweep of a B panel covers: MC x KC doubles (128 KiB) stay in L2. */
const MC = 64;

/** Where C goes: a typed array (int32 sums wrap like Int32Array stores). */
type Out = Float64Array | Float32Array | Int32Array;

/** A clipped 4x4 block at the matrix edges (one per thread: each thread loads this module). */
const tile = new Float64Array(16);

/**
 * Rows i0..i1 (i0 a multiple of 4) of C = A B, written to C[cOff + i * N + j]: each B panel sweeps MC rows of
 * packed A (the panel stays in L1, the rows in L2), 4x4 blocks, clipped at the edges through `tile`.
 */
export function computeRows(p: Packed, C: Out, cOff: number, i0: number, i1: number): void {
  const { PA, PB, M, N, K } = p;
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const pa = Mp * k0;
    const pb = Np * k0;
    const first = k0 === 0;
    for (let r0 = i0; r0 < i1; r0 += MC) {
      const r1 = Math.min(r0 + MC, i1);
      for (let j = 0; j < N; j += 4) {
        const panel = pb + j * kc;
        const cols = Math.min(4, N - j);
        for (let i = r0; i < r1; i += 4) {
          const rows = Math.min(4, M - i);
          if (rows === 4 && cols === 4) {
            kernel4x4(PA, pa + i * kc, kc, PB, panel, C, cOff + i * N + j, N, first);
            continue;
          }
          kernel4x4(PA, pa + i * kc, kc, PB, panel, tile, 0, 4, true);
          for (let rr = 0; rr < rows; rr++) {
            const o = cOff + (i + rr) * N + j;
            for (let cc = 0; cc < cols; cc++)
              C[o + cc] = first ? tile[rr * 4 + cc]! : C[o + cc]! + tile[rr * 4 + cc]!;
          }
        }
      }
    }
  }
}

/**
 * The register kernel: a 4x4 block of C from four packed rows of A (PA[a + r * kc + k]) and a packed panel of B
 * (PB[b + 4 * k + c]). Written (first) or added to C[c0 + r * ldc + c]. The `| 0` keep the indices untagged
 * int32 values without overflow checks and one end pointer drives the loop: with the MC sweep, about 7.0
 * instructions per multiply-add against 8.7 for the unrolled-by-pointer loop it replaced (cachegrind, 256^3, one thread). Bounds
 * checks, V8's reloads of the arrays' data pointers and spills of the 16 accumulators make up most of the rest;
 * smaller blocks (2x4, 3x3, 3x4) or unrolling K spill less but cost more per multiply-add.
 */
// biome-ignore format: the 4x4 accumulator block reads best as a grid
function kernel4x4(
  PA: Float64Array, a: number, kc: number, PB: Float64Array, b: number,
  C: Out, c0: number, ldc: number, first: boolean,
): void {
  let k = a | 0;
  let q = b | 0;
  const end = (k + kc) | 0;
  const s1 = kc | 0;
  const s2 = (2 * kc) | 0;
  const s3 = (3 * kc) | 0;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (; k < end; k = (k + 1) | 0, q = (q + 4) | 0) {
    const b0 = PB[q]!;
    const b1 = PB[(q + 1) | 0]!;
    const b2 = PB[(q + 2) | 0]!;
    const b3 = PB[(q + 3) | 0]!;
    let x = PA[k]!;
    c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
    x = PA[(k + s1) | 0]!;
    c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
    x = PA[(k + s2) | 0]!;
    c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
    x = PA[(k + s3) | 0]!;
    c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
  }
  let o = c0;
  if (first) {
    C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03; o += ldc;
    C[o] = c10; C[o + 1] = c11; C[o + 2] = c12; C[o + 3] = c13; o += ldc;
    C[o] = c20; C[o + 1] = c21; C[o + 2] = c22; C[o + 3] = c23; o += ldc;
    C[o] = c30; C[o + 1] = c31; C[o + 2] = c32; C[o + 3] = c33;
  } else {
    C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03; o += ldc;
    C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13; o += ldc;
    C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23; o += ldc;
    C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
  }
}
