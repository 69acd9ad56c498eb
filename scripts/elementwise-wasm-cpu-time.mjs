/**
 * CPU time per element of the CPU backend's elementwise kernels, JavaScript loop against the wasm SIMD kernel
 * (core's backends/cpu/wasm/elementwiseWasm.ts), alternating the two paths in rounds (process.cpuUsage: a shared
 * machine's load moves it less than wall-clock time). Calls the backend directly, on contiguous float32 views,
 * forcing each path with setCpuWasm and the wasm path's size threshold lowered to 0. Uses the built packages:
 *
 *   npx tsc -b packages/core && node scripts/elementwise-wasm-cpu-time.mjs [ops] [sizes]
 *
 * e.g. `node scripts/elementwise-wasm-cpu-time.mjs exp,tanh,add 16,64,256,4096,1048576`. Prints ns per element.
 */
import { CpuBackend, setCpuWasm } from '../packages/core/dist/index.js';
import { WASM_MIN } from '../packages/core/dist/backends/cpu/wasm/elementwiseWasm.js';

const ops = (process.argv[2] ?? 'exp,log,tanh,sigmoid,sqrt,relu,add,mul').split(',');
const sizes = (process.argv[3] ?? '16,32,64,128,256,1024,16384,1048576').split(',').map(Number);
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq', 'pow']);
const PARAMS = { clamp: [-0.5, 0.5], affine: [0.5, 2] };
const cpu = new CpuBackend();
const view = (buffer, n) => ({ buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 });

function timeOne(op, n, wasm, reps) {
  setCpuWasm(wasm ? 'on' : 'off');
  const x = Float32Array.from({ length: n }, () => Math.random() * 4 - 1);
  const y = Float32Array.from({ length: n }, () => Math.random() * 4 - 1);
  const out = new Float32Array(n);
  const run = BINARY.has(op)
    ? () => cpu.binary(op, { a: view(x, n), b: view(y, n), out: view(out, n) })
    : () => cpu.unary({ op, params: PARAMS[op] }, { x: view(x, n), out: view(out, n) });
  for (let i = 0; i < 3; i++) run();
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) run();
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / (reps * n);
}

// Every op may run in wasm from size 0 here (the benchmark measures where the threshold belongs).
for (const op of ops) WASM_MIN[op] = 0;
console.log('op        size      js ns/el  wasm ns/el  js/wasm');
for (const op of ops) {
  for (const n of sizes) {
    const reps = Math.max(3, Math.round(2e6 / n));
    const js = [];
    const wa = [];
    for (let round = 0; round < 5; round++) {
      js.push(timeOne(op, n, false, reps));
      wa.push(timeOne(op, n, true, reps));
    }
    const med = (a) => a.sort((p, q) => p - q)[2];
    const [j, w] = [med(js), med(wa)];
    console.log(
      `${op.padEnd(9)} ${String(n).padStart(8)} ${j.toFixed(2).padStart(10)} ${w.toFixed(2).padStart(11)} ${(j / w).toFixed(2).padStart(8)}`,
    );
  }
}
setCpuWasm('auto');
