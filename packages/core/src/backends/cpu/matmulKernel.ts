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

/** Rows i0..i1 (i0 a multiple of 4) of C = A B, written to C[cOff + i * N + j]. */
export function computeRows(
  p: Packed,
  C: { [i: number]: number },
  cOff: number,
  i0: number,
  i1: number,
): void {
  const { PA, PB, M, N, K } = p;
  const Mp = (M + 3) & ~3;
  const Np = (N + 3) & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const pa = Mp * k0;
    const pb = Np * k0;
    const first = k0 === 0;
    // biome-ignore format: the 4x4 accumulator block reads best as a grid
    for (let i = i0; i < i1; i += 4) {
      const a0 = pa + i * kc;
      const a1 = a0 + kc;
      const a2 = a1 + kc;
      const a3 = a2 + kc;
      for (let j = 0; j < N; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let q = pb + j * kc;
        for (let k = 0; k < kc; k++, q += 4) {
          const b0 = PB[q]!;
          const b1 = PB[q + 1]!;
          const b2 = PB[q + 2]!;
          const b3 = PB[q + 3]!;
          const x0 = PA[a0 + k]!;
          const x1 = PA[a1 + k]!;
          const x2 = PA[a2 + k]!;
          const x3 = PA[a3 + k]!;
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        store(C, cOff, N, M, i, j, first, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
      }
    }
  }
}

/** Write (or add, after the first K chunk) a 4x4 block, clipped to the matrix edges. */
// biome-ignore format: the 4x4 block reads best as a grid
function store(
  O: { [i: number]: number }, oo: number, N: number, M: number, i: number, j: number, first: boolean,
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
