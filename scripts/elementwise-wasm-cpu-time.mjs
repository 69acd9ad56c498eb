/**
 * CPU time per element of the CPU backend's elementwise kernels, JavaScript loop against the wasm SIMD kernel
 * (core's backends/cpu/wasm/elementwiseWasm.ts), alternating the two paths in rounds (process.cpuUsage: a shared
 * machine's load moves it less than wall-clock time). Calls the backend directly, on contiguous float32 views,
 * forcing each path with setCpuWasm and the wasm path's size threshold lowered to 0. Uses the built packages:
 *
 *   npx tsc -b packages/core && node scripts/elementwise-wasm-cpu-time.mjs [ops] [sizes]
 *
 * e.g. `node scripts/elementwise-wasm-cpu-time.mjs exp,tanh,add 16,64,256,4096,1048576`. Prints ns per element.
 * softmax and logSoftmax take sizes as rows x row length: `... softmax,logSoftmax 1x16,32x65,1x4096`.
 */
import { CpuBackend, setCpuWasm } from '../packages/core/dist/index.js';
import { WASM_MIN } from '../packages/core/dist/backends/cpu/wasm/elementwiseWasm.js';
import { WASM_MIN_SOFTMAX } from '../packages/core/dist/backends/cpu/wasm/softmaxWasm.js';

const ops = (process.argv[2] ?? 'exp,log,tanh,sigmoid,sqrt,relu,add,mul').split(',');
const sizes = (process.argv[3] ?? '16,32,64,128,256,1024,16384,1048576').split(',');
const SOFTMAX = new Set(['softmax', 'logSoftmax']);
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq', 'pow']);
const PARAMS = { clamp: [-0.5, 0.5], affine: [0.5, 2] };
const cpu = new CpuBackend();
const view = (buffer, n) => ({ buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 });

function timeOne(op, size, wasm, reps) {
  setCpuWasm(wasm ? 'on' : 'off');
  const [rows, len] = size.includes('x') ? size.split('x').map(Number) : [1, Number(size)];
  const n = rows * len;
  const x = Float32Array.from({ length: n }, () => Math.random() * 4 - 1);
  const y = Float32Array.from({ length: n }, () => Math.random() * 4 - 1);
  const out = new Float32Array(n);
  const rowsView = (buffer) => ({
    buffer,
    dtype: 'float32',
    shape: [rows, len],
    strides: [len, 1],
    offset: 0,
  });
  const run = SOFTMAX.has(op)
    ? () => cpu.softmax({ x: rowsView(x), out: rowsView(out) }, op === 'logSoftmax')
    : BINARY.has(op)
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
WASM_MIN_SOFTMAX.value = 0;
console.log('op        size      js ns/el  wasm ns/el  js/wasm');
for (const op of ops) {
  for (const size of sizes) {
    const n = size.split('x').reduce((p, q) => p * Number(q), 1);
    const reps = Math.max(3, Math.round(2e6 / n));
    const js = [];
    const wa = [];
    for (let round = 0; round < 5; round++) {
      js.push(timeOne(op, size, false, reps));
      wa.push(timeOne(op, size, true, reps));
    }
    const med = (a) => a.sort((p, q) => p - q)[2];
    const [j, w] = [med(js), med(wa)];
    console.log(
      `${op.padEnd(9)} ${size.padStart(8)} ${j.toFixed(2).padStart(10)} ${w.toFixed(2).padStart(11)} ${(j / w).toFixed(2).padStart(8)}`,
    );
  }
}
setCpuWasm('auto');
