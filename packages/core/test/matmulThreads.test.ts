import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The two-thread CPU matmul runs only from the compiled package (its worker is a .js file), so this test runs the
 * built core in a child process: large products (threaded) must equal a plain loop, for both dtypes and
 * transposes, float32 in JavaScript and in wasm (over shared wasm memory, split by rows or, for few rows, by
 * columns), and the process must exit on its own
 * (the worker must not keep it alive).
 */
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = `
import { cpuWasmStatus, manualSeed, matmul, randn, setCpuWasm } from ${JSON.stringify(dist)};
manualSeed(1);
let worst = 0;
const cases = [[130, 300, 97, 'float64', false], [64, 257, 128, 'float32', true], [200, 40, 300, 'float64', true]];
// float32 in wasm: the first product hands the worker the wasm module, the next ones split their rows with it.
for (const wasm of ['off', 'on']) {
setCpuWasm(wasm);
for (const [M, K, N, dtype, tb] of [...cases, [301, 260, 150, 'float32', false], [301, 260, 150, 'float32', true], [70, 40, 1021, 'float32', false],
  // Few rows (a recurrent step's batch): the wasm product is shared by blocks of columns, K across chunks.
  [32, 300, 1024, 'float32', false], [33, 256, 1021, 'float32', true], [5, 64, 200, 'float32', false],
  // 1 to 3 rows (gemv, on the third repetition, once the weight is in the packed cache): on this thread.
  [1, 256, 1024, 'float32', false], [3, 300, 517, 'float32', true]]) {
  const a = randn([M, K], { dtype });
  const b = randn(tb ? [N, K] : [K, N], { dtype });
  for (let rep = 0; rep < 3; rep++) {
  const c = matmul(a, b, { transB: tb }).dataSync();
  const A = a.dataSync(), B = b.dataSync();
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k] * (tb ? B[j * K + k] : B[k * N + j]);
    worst = Math.max(worst, Math.abs(s - c[i * N + j]) / (dtype === 'float32' ? 1e-4 * Math.sqrt(K) : 1e-10 * Math.sqrt(K)));
  }
  }
}
}
console.log(JSON.stringify({ worst, wasm: cpuWasmStatus() }));
`;

describe('CPU matmul on two threads (compiled package)', () => {
  it.skipIf(!existsSync(dist))('equals the plain loop and lets the process exit', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { worst, wasm } = JSON.parse(out.trim().split('\n').pop()!) as {
      worst: number;
      wasm: { active: boolean; sharedMemory: boolean };
    };
    expect(worst).toBeLessThan(1);
    expect(wasm).toMatchObject({ active: true, sharedMemory: true }); // so the wasm products had the worker
  });
});

/**
 * Random shapes around the sharing thresholds (1 to 3 rows: gemv, not shared; under 64 rows: gemm by columns;
 * more: by rows), K across chunks, transposed B, each product three times (the third with B in the packed cache): every
 * result equals a float64 loop whichever blocks the worker took, and the worker did take blocks (cpuThreadStatus).
 */
const randomScript = `
import { cpuThreadStatus, manualSeed, matmul, randn, setCpuWasm } from ${JSON.stringify(dist)};
setCpuWasm('on');
manualSeed(2);
let s = ${Number(process.env.WEBRNN_FC_SEED ?? 20261205)} >>> 0;
const rnd = (lo, hi) => lo + ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (hi - lo + 1));
let worst = 0;
const shapes = [[256, 512, 512]];
for (let n = 0; n < 24; n++) {
  const M = [rnd(1, 3), rnd(4, 63), rnd(64, 200)][n % 3];
  const K = rnd(1, 700);
  shapes.push([M, K, Math.min(1100, rnd(8, Math.max(8, Math.floor(6e6 / (M * K)))))]);
}
for (const [M, K, N] of shapes) {
  const tb = rnd(0, 1) === 1;
  const a = randn([M, K]);
  const b = randn(tb ? [N, K] : [K, N]);
  const A = a.dataSync(), B = b.dataSync();
  for (let rep = 0; rep < 3; rep++) {
    const c = matmul(a, b, { transB: tb }).dataSync();
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let t = 0, abs = 0;
      for (let k = 0; k < K; k++) { const p = A[i * K + k] * (tb ? B[j * K + k] : B[k * N + j]); t += p; abs += Math.abs(p); }
      worst = Math.max(worst, Math.abs(t - c[i * N + j]) / (2e-7 * (K + 4) * abs + 1e-30));
    }
  }
}
console.log(JSON.stringify({ worst, threads: cpuThreadStatus(), shapes: shapes.length }));
`;

describe('CPU matmul on two threads, random shapes (compiled package)', () => {
  it.skipIf(!existsSync(dist))('equals a float64 loop for any split, and the worker takes part', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', randomScript], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const { worst, threads } = JSON.parse(out.trim().split('\n').pop()!) as {
      worst: number;
      threads: { enabled: boolean; sharedProducts: number; workerBlocks: number };
    };
    expect(worst).toBeLessThanOrEqual(1);
    expect(threads.enabled).toBe(true);
    expect(threads.sharedProducts).toBeGreaterThan(10);
    expect(threads.workerBlocks).toBeGreaterThan(0);
  });
});
