import type { GemmFn } from './wasm/runtime.js';

/**
 * How a wasm product is shared between the calling thread and the matmul worker (matmulThreads.ts): cut into
 * blocks that both threads take in turn from one counter (Atomics.add), so that a thread the machine starves of
 * time takes fewer blocks instead of holding the other back.
 *
 * The job lives in the control word: ctl = [state, Mp, Np, K, rows, cols, kind, pa, pb, c, ldc, next, done], a
 * block being `rows` x `cols` of the padded Mp x Np result, `kind` WASM_JOB, `next` the counter, and `done` the
 * blocks the worker has computed since it started (for cpuThreadStatus).
 */
export const WASM_JOB = 1;
/** Int32 slots of the control word. */
export const CTL_SLOTS = 13;
/** The slot of the worker's count of computed blocks. */
export const WORKER_BLOCKS = 12;
export interface GemmBlocks {
  readonly rows: number;
  readonly cols: number;
}

/**
 * Blocks for an Mp x Np product (register block MR x NR), or null when it is too small to share. About eight
 * blocks: of at least 32 rows where there are 64 or more (fewer rows per block would reload packed B too often),
 * else of at least 32 columns (a recurrent step's few rows: each thread then streams its own panels of B, and
 * packed A, a few KiB, stays in cache).
 */
export function gemmBlocks(Mp: number, Np: number, MR: number, NR: number): GemmBlocks | null {
  if (Mp >= 64) return { rows: Math.max(32, Math.ceil(Mp / 8 / MR) * MR), cols: Np };
  const cols = Math.max(32, Math.ceil(Np / 8 / NR) * NR);
  return cols < Np ? { rows: Mp, cols } : null;
}

/**
 * Computes blocks of the job in `ctl` until none is left (each thread runs this with its own gemm); the number of
 * blocks it computed.
 */
export function takeGemmBlocks(gemm: GemmFn, ctl: Int32Array): number {
  const [Mp, Np, K, rows, cols] = [ctl[1]!, ctl[2]!, ctl[3]!, ctl[4]!, ctl[5]!];
  const across = Math.ceil(Np / cols);
  const count = Math.ceil(Mp / rows) * across;
  let taken = 0;
  for (let b = Atomics.add(ctl, 11, 1); b < count; b = Atomics.add(ctl, 11, 1)) {
    const i0 = Math.floor(b / across) * rows;
    const j0 = (b % across) * cols;
    const [i1, j1] = [Math.min(Mp, i0 + rows), Math.min(Np, j0 + cols)];
    gemm(ctl[7]!, ctl[8]!, ctl[9]!, Mp, Np, K, i0, i1, ctl[10]!, j0, j1);
    taken++;
  }
  return taken;
}
