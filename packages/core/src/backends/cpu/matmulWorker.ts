/**
 * A matmul worker thread (started by matmulThreads.ts). For each set of shared buffers it receives, it says it is
 * idle and loops: wait on the control word, compute its rows of the packed product into the shared result,
 * signal done. On SWAP it leaves the loop to receive larger buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeRows } from './matmulKernel.js';

const ctl = new Int32Array(workerData as SharedArrayBuffer);
const STARTING = 4;
const IDLE = 0;
const JOB = 1;
const DONE = 2;
const SWAP = 3;

parentPort!.on('message', (msg: { PA: SharedArrayBuffer; PB: SharedArrayBuffer; C: SharedArrayBuffer }) => {
  const PA = new Float64Array(msg.PA);
  const PB = new Float64Array(msg.PB);
  const C = new Float64Array(msg.C);
  Atomics.store(ctl, 0, IDLE);
  for (;;) {
    const state = Atomics.load(ctl, 0);
    if (state === IDLE || state === DONE) {
      Atomics.wait(ctl, 0, state); // sleep until the main thread changes the state
      continue;
    }
    if (state === SWAP) {
      Atomics.store(ctl, 0, STARTING);
      Atomics.notify(ctl, 0);
      return;
    }
    if (state !== JOB) continue;
    computeRows({ PA, PB, M: ctl[1]!, N: ctl[2]!, K: ctl[3]! }, C, 0, ctl[4]!, ctl[5]!);
    Atomics.store(ctl, 0, DONE);
    Atomics.notify(ctl, 0);
  }
});
