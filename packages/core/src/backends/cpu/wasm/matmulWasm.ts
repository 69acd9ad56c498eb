import type { TypedArray } from '../../../dtype.js';
import type { View } from '../../backend.js';
import { PARALLEL_MACS, gemmParallel } from '../matmulThreads.js';
import { lookupPackedB, markFilled, scratchBase } from './packedCache.js';
import { type GemmInstance, MAX_WASM_BYTES, gemmInstance, wasmFloats } from './runtime.js';

/**
 * The float32 matmul through the wasm kernel (matmulModule.ts): operands of any strides are packed into wasm
 * memory in the kernel's panel layout (which also makes transposed, narrowed and expanded views sequential),
 * C is computed there, padded to whole register blocks, and its M x N corner copied into the output.
 *
 * Layout in wasm memory, in floats: the cache of packed B operands (packedCache.ts), then packed A (Mp * K), packed B
 * (Np * K, unless the cache holds it) and C (Mp * ldc), each 16-byte aligned.
 */
export interface WasmPlan {
  readonly g: GemmInstance;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly Mp: number;
  readonly Np: number;
  /** Floats between rows of C: Np, or Np + NR where Np rows would be a multiple of 4 KiB apart. */
  readonly ldc: number;
  /** Float offsets of packed A, packed B and C. */
  readonly pa: number;
  readonly pb: number;
  readonly c: number;
  /** A view of the whole memory, valid until the next plan (planning may grow the memory). */
  readonly F: Float32Array;
}

type Seven = [number, number, number, number, number, number, number];

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** A B operand in the cache: packed at float `off` if `filled`, else to be packed there (then call `filled()`). */
export interface CachedB {
  readonly off: number;
  readonly filled: boolean;
  /** Records that the entry now holds B at its view's version. */
  fill(): void;
}

/**
 * The cache entry for B (typed array `B` of view `b`, strides brs, bcs, K x N from b.offset), or null: no version
 * on the view, not seen twice yet, too large, or no wasm instance.
 */
export function cachedB(B: object, b: View, brs: number, bcs: number, K: number, N: number): CachedB | null {
  const version = b.version;
  const g = version === undefined ? null : gemmInstance();
  if (!g || version === undefined) return null;
  const key = `${b.offset},${brs},${bcs},${K},${N}`;
  const hit = lookupPackedB(g, B, key, version, roundUp(N, g.shape.NR) * K);
  if (!hit) return null;
  return { off: hit.off, filled: hit.filled, fill: () => markFilled(hit.entry, version) };
}

/**
 * A plan for an M x K by K x N product (M, N, K > 0), or null when it would not fit in wasm memory or the host
 * refused the instance: the JavaScript kernel then computes it. `cachedPb`: where the cache holds (or will hold)
 * packed B.
 */
export function planWasmMatmul(
  M: number,
  N: number,
  K: number,
  cachedPb: number | null = null,
): WasmPlan | null {
  const g = gemmInstance();
  if (!g) return null;
  const { MR, NR } = g.shape;
  const Mp = roundUp(M, MR);
  const Np = roundUp(N, NR);
  const pa = roundUp(scratchBase(), 4);
  const pb = cachedPb ?? pa + roundUp(Mp * K, 4);
  const c = cachedPb === null ? pb + roundUp(Np * K, 4) : pa + roundUp(Mp * K, 4);
  const ldc = Np % 1024 === 0 ? Np + NR : Np;
  const bytes = 4 * (c + Mp * ldc);
  if (bytes > MAX_WASM_BYTES) return null;
  let F: Float32Array;
  try {
    F = wasmFloats(g, bytes);
  } catch {
    return null; // the host would not grow the memory: the JavaScript kernel needs none
  }
  return { g, M, N, K, Mp, Np, ldc, pa, pb, c, F };
}

/**
 * Packs A (strides ars, acs from offset ao): per K chunk, panels of MR rows, k-major; padding rows are zero. Whole
 * panels of the 4-row kernel are unrolled (about 3x faster than the loop over r, which serves the last panel).
 */
export function packAWasm(p: WasmPlan, A: TypedArray, ao: number, ars: number, acs: number): void {
  const { F, M, K, Mp } = p;
  const { MR, KC } = p.g.shape;
  const r1 = ars;
  const r2 = 2 * ars;
  const r3 = 3 * ars;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    let d = p.pa + Mp * k0;
    for (let i = 0; i < Mp; i += MR) {
      const rows = Math.min(MR, M - i);
      let s = ao + i * ars + k0 * acs;
      if (MR === 4 && rows === 4) {
        for (const end = d + 4 * kc; d < end; d += 4, s += acs) {
          F[d] = A[s]!;
          F[d + 1] = A[s + r1]!;
          F[d + 2] = A[s + r2]!;
          F[d + 3] = A[s + r3]!;
        }
        continue;
      }
      for (let k = 0; k < kc; k++, s += acs, d += MR) {
        for (let r = 0; r < rows; r++) F[d + r] = A[s + r * ars]!;
        for (let r = rows; r < MR; r++) F[d + r] = 0;
      }
    }
  }
}

/**
 * Packs B (strides brs, bcs from offset bo): per K chunk, panels of NR columns, k-major; padding is zero. Whole
 * panels of the 8-column kernel are unrolled, two panels at a time where B's rows are contiguous (each 64-byte line
 * of a row is then read once).
 */
export function packBWasm(p: WasmPlan, B: TypedArray, bo: number, brs: number, bcs: number): void {
  const { F, N, K, Np } = p;
  const { NR, KC } = p.g.shape;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const base = p.pb + Np * k0;
    let j = 0;
    if (NR === 8) {
      const pairs = bcs === 1;
      for (; j + (pairs ? 16 : 8) <= N; j += pairs ? 16 : 8) {
        let d = base + j * kc;
        let s = bo + k0 * brs + j * bcs;
        if (pairs) {
          // Two panels: row k's 16 values go to d (first panel) and d + 8 kc (second).
          const e = 8 * kc;
          for (const end = d + 8 * kc; d < end; d += 8, s += brs) {
            F[d] = B[s]!;
            F[d + 1] = B[s + 1]!;
            F[d + 2] = B[s + 2]!;
            F[d + 3] = B[s + 3]!;
            F[d + 4] = B[s + 4]!;
            F[d + 5] = B[s + 5]!;
            F[d + 6] = B[s + 6]!;
            F[d + 7] = B[s + 7]!;
            F[d + e] = B[s + 8]!;
            F[d + e + 1] = B[s + 9]!;
            F[d + e + 2] = B[s + 10]!;
            F[d + e + 3] = B[s + 11]!;
            F[d + e + 4] = B[s + 12]!;
            F[d + e + 5] = B[s + 13]!;
            F[d + e + 6] = B[s + 14]!;
            F[d + e + 7] = B[s + 15]!;
          }
          continue;
        }
        const [c1, c2, c3, c4, c5, c6, c7] = [1, 2, 3, 4, 5, 6, 7].map((c) => c * bcs) as Seven;
        for (const end = d + 8 * kc; d < end; d += 8, s += brs) {
          F[d] = B[s]!;
          F[d + 1] = B[s + c1]!;
          F[d + 2] = B[s + c2]!;
          F[d + 3] = B[s + c3]!;
          F[d + 4] = B[s + c4]!;
          F[d + 5] = B[s + c5]!;
          F[d + 6] = B[s + c6]!;
          F[d + 7] = B[s + c7]!;
        }
      }
    }
    for (; j < Np; j += NR) {
      const cols = Math.min(NR, N - j);
      let d = base + j * kc;
      let s = bo + k0 * brs + j * bcs;
      for (let k = 0; k < kc; k++, s += brs, d += NR) {
        for (let c = 0; c < cols; c++) F[d + c] = B[s + c * bcs]!;
        for (let c = cols; c < NR; c++) F[d + c] = 0;
      }
    }
  }
}

/**
 * C = packed A times packed B (plus `addend`, an M x N view of any strides, which C starts from instead of zeros),
 * rows [0, M) written to O[oo + i * N + j].
 */
export function runWasmMatmul(p: WasmPlan, O: TypedArray, oo: number, addend?: View): void {
  const { F, M, N, K, Mp, Np, ldc } = p;
  // Fewer rows than a register block (batch 1 to 3): gemv, which computes (and reads) only those rows.
  const gemv = M < p.g.shape.MR;
  const end = p.c + (gemv ? M : Mp) * ldc;
  if (addend) {
    // The addend fills the M x N corner; only the padding the kernel adds into is zeroed.
    startFrom(p, addend);
    for (let i = 0; i < M; i++) F.fill(0, p.c + i * ldc + N, p.c + i * ldc + Np);
    F.fill(0, p.c + M * ldc, end);
  } else F.fill(0, p.c, end);
  const args = [4 * p.pa, 4 * p.pb, 4 * p.c, Mp, Np, K] as const;
  // Products of 1 to 3 rows (gemv, a batch-1 step) are not shared: split by columns, [1, 256] x [256, 1024]
  // measured 15-25% slower per generated token on the idle machine (the worker's wake-up outlasts its ~25 us).
  if (gemv) p.g.gemv(...args, 0, M, ldc, 0, Np);
  else if (M * N * K < PARALLEL_MACS || !gemmParallel(p.g, ...args, ldc))
    p.g.gemm(...args, 0, Mp, ldc, 0, Np);
  for (let i = 0; i < M; i++) O.set(F.subarray(p.c + i * ldc, p.c + i * ldc + N), oo + i * N);
}

/** Rows [0, M) of C set to the M x N view `c` (contiguous rows are copied whole). */
function startFrom(p: WasmPlan, c: View): void {
  const { F, M, N, ldc } = p;
  const C = c.buffer as TypedArray;
  const [rs, cs] = c.strides as [number, number];
  for (let i = 0; i < M; i++) {
    const s = c.offset + i * rs;
    const d = p.c + i * ldc;
    if (cs === 1) F.set(C.subarray(s, s + N), d);
    else for (let j = 0; j < N; j++) F[d + j] = C[s + j * cs]!;
  }
}
