/**
 * A matmul worker thread (started by matmulThreads.ts). For each set of shared buffers it receives, it says it is
 * idle and loops: wait on the control word, compute its rows of the packed product into the shared result,
 * signal done. On SWAP it leaves the loop to receive larger buffers (or the wasm gemm's module and shared memory,
 * whose rows it then computes in place in that memory).
 */
import { CTL_SLOTS, WASM_JOB, WORKER_BLOCKS, takeGemmBlocks } from './gemmBlocks.js';
import { computeRows } from './matmulKernel.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm/api.js';
import type { GemmFn } from './wasm/runtime.js';

/**
 * Node's worker_threads (the control word comes as workerData) or a page's module worker (it comes as the first
 * message); Node's module is reached through `process`, so that a bundler can build this file for a page.
 */
interface Buffers {
  PA: SharedArrayBuffer;
  PB: SharedArrayBuffer;
  C: SharedArrayBuffer;
  /** The wasm gemm's module and shared memory (matmulThreads.gemmParallel), instantiated here over the same memory. */
  wasm?: { module: WasmModule; memory: WasmMemory };
}
type WorkerThreads = typeof import('node:worker_threads');
const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
const threads = proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined;
let ctl = threads ? new Int32Array(threads.workerData as SharedArrayBuffer) : new Int32Array(CTL_SLOTS);
const STARTING = 4;
const IDLE = 0;
const JOB = 1;
const DONE = 2;
const SWAP = 3;
const RUNNING = 5;

let gemm: GemmFn | null = null;

function serve(msg: Buffers): void {
  const PA = new Float64Array(msg.PA);
  const PB = new Float64Array(msg.PB);
  const C = new Float64Array(msg.C);
  if (msg.wasm) {
    const { module, memory } = msg.wasm;
    gemm = new wasmApi!.Instance(module, { env: { memory } }).exports.gemm as GemmFn;
  }
  Atomics.store(ctl, 0, IDLE);
  for (;;) {
    const state = Atomics.load(ctl, 0);
    if (state === IDLE || state === DONE) {
      // Sleep until the main thread changes the state. (Spinning a while first, to wake faster, measured slower on
      // a loaded machine: the spinning thread takes the core the main thread needs.)
      Atomics.wait(ctl, 0, state);
      continue;
    }
    if (state === SWAP) {
      Atomics.store(ctl, 0, STARTING);
      Atomics.notify(ctl, 0);
      return;
    }
    // Take the job, unless the main thread took every block and withdrew it meanwhile (matmulThreads.gemmParallel).
    if (state !== JOB || Atomics.compareExchange(ctl, 0, JOB, RUNNING) !== JOB) continue;
    if (ctl[6] === WASM_JOB) Atomics.add(ctl, WORKER_BLOCKS, takeGemmBlocks(gemm!, ctl));
    else computeRows({ PA, PB, M: ctl[1]!, N: ctl[2]!, K: ctl[3]! }, C, 0, ctl[4]!, ctl[5]!);
    Atomics.store(ctl, 0, DONE);
    Atomics.notify(ctl, 0);
  }
}

if (threads) threads.parentPort!.on('message', serve);
else {
  (
    globalThis as unknown as { onmessage: (e: { data: Buffers | { ctl: SharedArrayBuffer } }) => void }
  ).onmessage = (e) => {
    if ('ctl' in e.data) ctl = new Int32Array(e.data.ctl);
    else serve(e.data);
  };
}
