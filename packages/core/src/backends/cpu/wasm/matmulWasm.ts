import type { TypedArray } from '../../../dtype.js';
import { gemmParallel } from '../matmulThreads.js';
import { type GemmInstance, MAX_WASM_BYTES, gemmInstance, wasmFloats } from './runtime.js';

/**
 * The float32 matmul through the wasm kernel (matmulModule.ts): operands of any strides are packed into wasm
 * memory in the kernel's panel layout (which also makes transposed, narrowed and expanded views sequential),
 * C is computed there, padded to whole register blocks, and its M x N corner copied into the output.
 *
 * Layout in wasm memory, in floats from 0: packed A (Mp * K), packed B (Np * K), C (Mp * Np), each 16-byte aligned.
 */
export interface WasmPlan {
  readonly g: GemmInstance;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly Mp: number;
  readonly Np: number;
  /** Float offsets of packed A, packed B and C. */
  readonly pa: number;
  readonly pb: number;
  readonly c: number;
  /** A view of the whole memory, valid until the next plan (planning may grow the memory). */
  readonly F: Float32Array;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * A plan for an M x K by K x N product (M, N, K > 0), or null when it would not fit in wasm memory or the host
 * refused the instance: the JavaScript kernel then computes it.
 */
export function planWasmMatmul(M: number, N: number, K: number): WasmPlan | null {
  const g = gemmInstance();
  if (!g) return null;
  const { MR, NR } = g.shape;
  const Mp = roundUp(M, MR);
  const Np = roundUp(N, NR);
  const pa = 0;
  const pb = roundUp(Mp * K, 4);
  const c = pb + roundUp(Np * K, 4);
  const bytes = 4 * (c + Mp * Np);
  if (bytes > MAX_WASM_BYTES) return null;
  let F: Float32Array;
  try {
    F = wasmFloats(g, bytes);
  } catch {
    return null; // the host would not grow the memory: the JavaScript kernel needs none
  }
  return { g, M, N, K, Mp, Np, pa, pb, c, F };
}

/** Packs A (strides ars, acs from offset ao): per K chunk, panels of MR rows, k-major; padding rows are zero. */
export function packAWasm(p: WasmPlan, A: TypedArray, ao: number, ars: number, acs: number): void {
  const { F, M, K, Mp } = p;
  const { MR, KC } = p.g.shape;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    let d = p.pa + Mp * k0;
    for (let i = 0; i < Mp; i += MR) {
      const rows = Math.min(MR, M - i);
      const src = ao + i * ars + k0 * acs;
      for (let k = 0; k < kc; k++) {
        let s = src + k * acs;
        for (let r = 0; r < rows; r++, s += ars) F[d + r] = A[s]!;
        for (let r = rows; r < MR; r++) F[d + r] = 0;
        d += MR;
      }
    }
  }
}

/** Packs B (strides brs, bcs from offset bo): per K chunk, panels of NR columns, k-major; padding is zero. */
export function packBWasm(p: WasmPlan, B: TypedArray, bo: number, brs: number, bcs: number): void {
  const { F, N, K, Np } = p;
  const { NR, KC } = p.g.shape;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    let d = p.pb + Np * k0;
    for (let j = 0; j < Np; j += NR) {
      const cols = Math.min(NR, N - j);
      const src = bo + k0 * brs + j * bcs;
      for (let k = 0; k < kc; k++) {
        let s = src + k * brs;
        for (let c = 0; c < cols; c++, s += bcs) F[d + c] = B[s]!;
        for (let c = cols; c < NR; c++) F[d + c] = 0;
        d += NR;
      }
    }
  }
}

/**
 * C = packed A times packed B, rows [0, M) written to O[oo + i * N + j]; with `parallel`, the rows are split with
 * the matmul worker where it can take them (shared wasm memory).
 */
export function runWasmMatmul(p: WasmPlan, O: TypedArray, oo: number, parallel: boolean): void {
  const { F, M, N, K, Mp, Np } = p;
  F.fill(0, p.c, p.c + Mp * Np);
  const args = [4 * p.pa, 4 * p.pb, 4 * p.c, Mp, Np, K] as const;
  if (!parallel || !gemmParallel(p.g, ...args)) p.g.gemm(...args, 0, Mp);
  for (let i = 0; i < M; i++) O.set(F.subarray(p.c + i * Np, p.c + i * Np + N), oo + i * N);
}
