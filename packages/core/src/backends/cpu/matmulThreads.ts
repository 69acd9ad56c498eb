import type { Worker as NodeWorker } from 'node:worker_threads';
import { type Packed, computeRows } from './matmulKernel.js';
import { CTL_SLOTS, WASM_JOB, WORKER_BLOCKS, gemmBlocks, takeGemmBlocks } from './gemmBlocks.js';
import type { GemmInstance } from './wasm/runtime.js';
import { nodeBuiltin, nodeEnv } from '../../nodeBuiltins.js';

/**
 * A second core for large CPU matmuls: one worker thread shares the packed operands and the result through
 * SharedArrayBuffers and takes half of the rows; the calling thread computes the other half and waits with
 * Atomics (microseconds, no event-loop round trip). The calling thread never waits for a worker that is not
 * idle in its loop: while it starts, or while it takes larger buffers, this thread computes everything itself.
 *
 * In Node: a worker_threads Worker, from the compiled package only (where the worker's .js file exists). In a
 * page: a module Worker, only where the page is cross-origin isolated (no SharedArrayBuffer otherwise) and its
 * bundler serves the worker file (Vite and webpack bundle `new Worker(new URL(...))`; esbuild does not, and the
 * worker then fails to load); the page's main thread may not block in Atomics.wait, so it spins for the few
 * microseconds the worker's half outlasts its own. Anywhere else, or when the worker cannot start, every product
 * runs on the calling thread, without a word.
 */
const threads = nodeBuiltin('node:worker_threads');
const page = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
const inNode = threads !== undefined;
const cores = inNode
  ? (nodeBuiltin('node:os')?.availableParallelism() ?? 1)
  : (page.navigator?.hardwareConcurrency ?? 1);
const enabled =
  typeof SharedArrayBuffer === 'function' &&
  cores > 1 &&
  nodeEnv('WEBRNN_CPU_THREADS') !== '1' &&
  (inNode
    ? import.meta.url.endsWith('.js')
    : page.crossOriginIsolated === true && typeof Worker === 'function');

/** A page's Worker (the DOM's type is not in this package's libs). */
interface PageWorker {
  postMessage(message: unknown): void;
  addEventListener(type: 'error', listener: () => void): void;
}
declare const Worker: new (url: URL, options: { type: 'module' }) => PageWorker;

/**
 * Control word states: ctl = [state, M, N, K, i0, i1, kind, pa, pb, c, ldc, next]; kind 0 runs the JavaScript
 * kernel on rows [i0, i1); kind WASM_JOB the wasm gemm on the shared wasm memory, in blocks both threads take
 * (gemmBlocks.ts, which names the slots for it).
 */
/**
 * Products of at least this many multiply-adds are shared with the worker, by the JavaScript kernel and the wasm
 * one alike (below it, waking the worker costs more than it saves).
 */
export const PARALLEL_MACS = 1 << 21;

export const STARTING = 4;
export const IDLE = 0;
export const JOB = 1;
export const DONE = 2;
export const SWAP = 3;
/** The worker took the job (from JOB): the caller waits for DONE. */
export const RUNNING = 5;

interface Shared {
  PA: Float64Array;
  PB: Float64Array;
  C: Float64Array;
}

let worker: NodeWorker | PageWorker | null = null;
const ctl = enabled ? new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4)) : new Int32Array(CTL_SLOTS);
let shared: Shared | null = null;
/** The wasm instance whose module and memory the worker has (it instantiates its own over the same memory). */
let workerWasm: GemmInstance | null = null;

const sab = (n: number) => new Float64Array(new SharedArrayBuffer(n * 8));

/** Shared scratch of at least these sizes, or null when this product stays on the calling thread. */
export function sharedScratch(nA: number, nB: number, nC: number): Shared | null {
  if (!enabled) return null;
  if (shared && shared.PA.length >= nA && shared.PB.length >= nB && shared.C.length >= nC) return shared;
  if (worker && Atomics.load(ctl, 0) !== IDLE) return null; // busy taking the last buffers: stay single-threaded
  const size = (cur: Float64Array | undefined, need: number) => Math.max(need, 2 * (cur?.length ?? 0));
  shared = { PA: sab(size(shared?.PA, nA)), PB: sab(size(shared?.PB, nB)), C: sab(size(shared?.C, nC)) };
  return sendToWorker() ? shared : null;
}

/**
 * Starts the worker, or makes the idle one leave its loop, and sends it the shared buffers (and wasm, if any).
 * False when no worker could be started.
 */
function sendToWorker(): boolean {
  const s = shared!;
  if (!worker) {
    ctl[0] = STARTING;
    worker = startWorker();
    if (!worker) return false;
  } else {
    // Make the idle worker leave its loop, so that it can receive the new buffers.
    Atomics.store(ctl, 0, SWAP);
    Atomics.notify(ctl, 0);
    while (Atomics.load(ctl, 0) === SWAP) waitWhile(SWAP, 5);
  }
  const wasm = workerWasm ? { module: workerWasm.module, memory: workerWasm.memory } : undefined;
  worker.postMessage({ PA: s.PA.buffer, PB: s.PB.buffer, C: s.C.buffer, wasm });
  return true;
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
  ctl[6] = 0;
  Atomics.store(ctl, 0, JOB);
  Atomics.notify(ctl, 0);
  computeRows(p, s.C, 0, 0, Math.min(half, p.M));
  for (let st = Atomics.load(ctl, 0); st === JOB || st === RUNNING; st = Atomics.load(ctl, 0)) waitWhile(st);
  Atomics.store(ctl, 0, IDLE);
}

/**
 * The wasm gemm of the padded Mp x Np result, split with the worker in blocks (gemmBlocks.ts), over shared wasm
 * memory (byte addresses as for `GemmInstance.gemm`). False when the worker cannot take it now (threads off,
 * memory not shared, worker starting or busy, just handed this instance, or a product too small to share): the
 * caller then computes everything itself.
 */
export function gemmParallel(
  g: GemmInstance,
  pa: number,
  pb: number,
  c: number,
  Mp: number,
  Np: number,
  K: number,
  ldc: number,
): boolean {
  if (!enabled || !(g.memory.buffer instanceof SharedArrayBuffer)) return false;
  if (worker && Atomics.load(ctl, 0) !== IDLE) return false;
  if (workerWasm !== g) {
    // Hand the worker this module and memory once (with the current, or minimal, shared scratch).
    workerWasm = g;
    shared ??= { PA: sab(1), PB: sab(1), C: sab(1) };
    sendToWorker();
    return false;
  }
  const blocks = gemmBlocks(Mp, Np, g.shape.MR, g.shape.NR);
  if (!blocks) return false;
  ctl.set([Mp, Np, K, blocks.rows, blocks.cols, WASM_JOB, pa, pb, c, ldc, 0], 1);
  sharedProducts++;
  Atomics.store(ctl, 0, JOB);
  Atomics.notify(ctl, 0);
  takeGemmBlocks(g.gemm, ctl);
  // Every block is taken. A worker that has not woken yet is told not to start (its wake-up, tens of
  // microseconds, would otherwise be waited for); one that has started is waited for.
  if (Atomics.compareExchange(ctl, 0, JOB, IDLE) === JOB) return true;
  while (Atomics.load(ctl, 0) === RUNNING) waitWhile(RUNNING);
  Atomics.store(ctl, 0, IDLE);
  return true;
}

let sharedProducts = 0;

/**
 * Whether the CPU backend's matmuls can use a second thread here, and how much they did: products offered to the
 * worker (wasm ones; each is cut into blocks both threads take) and blocks the worker computed. For tests,
 * benchmarks and bug reports ("is the second core used?").
 */
export function cpuThreadStatus(): { enabled: boolean; sharedProducts: number; workerBlocks: number } {
  return { enabled, sharedProducts, workerBlocks: Atomics.load(ctl, WORKER_BLOCKS) };
}

/** Sleep while the control word holds `state` (Node), or return at once so that the caller spins (a page). */
function waitWhile(state: number, ms?: number): void {
  if (inNode) Atomics.wait(ctl, 0, state, ms);
}

/** The worker; one that cannot start or dies leaves the state at STARTING: matmuls simply stay on this thread. */
function startWorker(): NodeWorker | PageWorker | null {
  const failed = () => Atomics.store(ctl, 0, STARTING);
  if (threads) {
    const w = new threads.Worker(new URL('./matmulWorker.js', import.meta.url), {
      workerData: ctl.buffer,
      // Flags such as --input-type apply to the main entry only and would stop the worker from starting.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    });
    w.on('error', failed);
    w.unref();
    return w;
  }
  try {
    // One expression that Vite and webpack recognise, and bundle the worker for.
    const w = new Worker(new URL('./matmulWorker.js', import.meta.url), { type: 'module' });
    w.addEventListener('error', failed);
    w.postMessage({ ctl: ctl.buffer });
    return w;
  } catch {
    return null; // no module URL (an IIFE bundle), or a policy that forbids workers
  }
}
