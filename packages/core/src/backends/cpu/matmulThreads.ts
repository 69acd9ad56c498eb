import type { Worker } from 'node:worker_threads';
import { type Packed, computeRows } from './matmulKernel.js';
import { nodeBuiltin, nodeEnv } from '../../nodeBuiltins.js';

/**
 * A second core for large CPU matmuls: one worker thread shares the packed operands and the result through
 * SharedArrayBuffers and takes half of the rows; the calling thread computes the other half and waits with
 * Atomics (microseconds, no event-loop round trip). The calling thread never waits for a worker that is not
 * idle in its loop: while it starts, or while it takes larger buffers, this thread computes everything itself.
 * Used only from the compiled package (where the worker's .js file exists), in Node, on machines with more than one
 * core. Elsewhere (a browser: no worker_threads, a main thread that may not Atomics.wait, and no SharedArrayBuffer
 * unless the page is cross-origin isolated) every product runs on the calling thread, without a word.
 */
const threads = nodeBuiltin('node:worker_threads');
const enabled =
  threads !== undefined &&
  typeof SharedArrayBuffer === 'function' &&
  import.meta.url.endsWith('.js') &&
  (nodeBuiltin('node:os')?.availableParallelism() ?? 1) > 1 &&
  nodeEnv('WEBRNN_CPU_THREADS') !== '1';

/** Control word states: ctl = [state, M, N, K, i0, i1]. */
export const STARTING = 4;
export const IDLE = 0;
export const JOB = 1;
export const DONE = 2;
export const SWAP = 3;

interface Shared {
  PA: Float64Array;
  PB: Float64Array;
  C: Float64Array;
}

let worker: Worker | null = null;
const ctl = enabled ? new Int32Array(new SharedArrayBuffer(6 * 4)) : new Int32Array(6);
let shared: Shared | null = null;

const sab = (n: number) => new Float64Array(new SharedArrayBuffer(n * 8));

/** Shared scratch of at least these sizes, or null when this product stays on the calling thread. */
export function sharedScratch(nA: number, nB: number, nC: number): Shared | null {
  if (!enabled) return null;
  if (shared && shared.PA.length >= nA && shared.PB.length >= nB && shared.C.length >= nC) return shared;
  if (worker && Atomics.load(ctl, 0) !== IDLE) return null; // busy taking the last buffers: stay single-threaded
  const size = (cur: Float64Array | undefined, need: number) => Math.max(need, 2 * (cur?.length ?? 0));
  shared = { PA: sab(size(shared?.PA, nA)), PB: sab(size(shared?.PB, nB)), C: sab(size(shared?.C, nC)) };
  if (!worker) {
    ctl[0] = STARTING;
    worker = new threads!.Worker(new URL('./matmulWorker.js', import.meta.url), {
      workerData: ctl.buffer,
      // Flags such as --input-type apply to the main entry only and would stop the worker from starting.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    });
    // A worker that cannot start or dies leaves the state at STARTING: matmuls simply stay on this thread.
    worker.on('error', () => Atomics.store(ctl, 0, STARTING));
    worker.unref();
  } else {
    // Make the idle worker leave its loop, so that it can receive the new buffers.
    Atomics.store(ctl, 0, SWAP);
    Atomics.notify(ctl, 0);
    while (Atomics.load(ctl, 0) === SWAP) Atomics.wait(ctl, 0, SWAP, 5);
  }
  worker.postMessage({ PA: shared.PA.buffer, PB: shared.PB.buffer, C: shared.C.buffer });
  return shared;
}

/** C[0 : M*N] = A B from the shared packed operands: rows split with the worker when it is idle, else all here. */
export function computeParallel(p: Packed): void {
  const s = shared!;
  if (Atomics.load(ctl, 0) !== IDLE) return computeRows(p, s.C, 0, 0, p.M);
  const half = (((p.M + 1) >> 1) + 3) & ~3;
  ctl[1] = p.M;
  ctl[2] = p.N;
  ctl[3] = p.K;
  ctl[4] = half;
  ctl[5] = p.M;
  Atomics.store(ctl, 0, JOB);
  Atomics.notify(ctl, 0);
  computeRows(p, s.C, 0, 0, Math.min(half, p.M));
  while (Atomics.load(ctl, 0) === JOB) Atomics.wait(ctl, 0, JOB);
  Atomics.store(ctl, 0, IDLE);
}
