/**
 * The matmul benchmark: float32 n x n products, GFLOP/s (2 n^3 flops per product) for our CPU kernel and for
 * TensorFlow.js's `cpu` and `wasm` backends, each peer in its own child process, with our ratio to each peer.
 * Results go to bench/results/matmul.{json,md}.
 *
 *   node bench/dist/matmul.js [--sizes 256,512,1024] [--peers ours-cpu,tfjs-cpu,tfjs-wasm] [--seconds 1]
 *
 * The same file is the child: `--peer=<name>` measures one peer and prints one JSON line per size. A peer is a
 * descriptor with `setup()` and `matmul(n)`; `ours-webgpu` and `tfjs-webgpu` are there for a WebGPU column
 * (`--peers ours-cpu,ours-webgpu,tfjs-cpu,tfjs-wasm,tfjs-webgpu`), off by default; `ours-cpu-js` is our CPU backend
 * with its wasm kernels off (`setCpuWasm('off')`), the JavaScript path.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CpuBackend, type View, cpuWasmStatus, setCpuWasm } from '@webrnn/core';
import { lcg } from './workloads.js';

/** One timed cell: the median seconds of one n x n product. */
interface Timing {
  readonly seconds: number;
  /** Products timed (after warm-up). */
  readonly runs: number;
}

interface PeerDescriptor {
  readonly name: string;
  /** Which of our peers this one is compared with ('ours-cpu' against every peer, 'ours-webgpu' too). */
  readonly ours: boolean;
  /** Load and initialise the backend; returns a note for the table (backend flags, adapter), or ''. */
  setup(): Promise<string>;
  /** Time one float32 n x n matmul, result read back to the host each time. */
  matmul(n: number, minSeconds: number): Promise<Timing>;
}

interface Row {
  readonly peer: string;
  readonly n: number;
  readonly gflops: number;
  readonly seconds: number;
  readonly runs: number;
  readonly note?: string;
  readonly error?: string;
}

const DEFAULT_PEERS = ['ours-cpu', 'ours-cpu-js', 'tfjs-cpu', 'tfjs-wasm'];

/**
 * Warm up, then time batches of products (each batch at least ~20 ms, so short products are not timer noise)
 * until `minSeconds` and at least 5 batches have passed; the median batch time per product.
 */
async function timeRuns(run: () => unknown, minSeconds: number): Promise<Timing> {
  const t0 = performance.now();
  let warm = 0;
  while (warm < 2 || performance.now() - t0 < 200) {
    await run();
    warm++;
  }
  const perRun = (performance.now() - t0) / warm;
  const batch = Math.max(1, Math.ceil(20 / perRun));
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 5 || performance.now() - start < minSeconds * 1000) {
    const s = performance.now();
    for (let i = 0; i < batch; i++) await run();
    samples.push((performance.now() - s) / batch);
  }
  samples.sort((a, b) => a - b);
  return { seconds: samples[samples.length >> 1]! / 1000, runs: samples.length * batch };
}

function randomF32(n: number, seed: number): Float32Array {
  const rand = lcg(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}

const view = (buffer: Float32Array, shape: number[]): View => ({
  buffer,
  dtype: 'float32',
  shape,
  strides: [shape[1]!, 1],
  offset: 0,
});

/**
 * Our CPU product of two n x n float32 matrices: one call returns the function that computes one product into a
 * fresh output (as an op would allocate it). For now it goes through the CPU backend's kernel on hand-built
 * views; switching to the public tensor API changes this function only.
 */
export function oursCpuMatmul(n: number): () => Float32Array {
  const backend = new CpuBackend();
  const a = view(randomF32(n * n, 1), [n, n]);
  const b = view(randomF32(n * n, 2), [n, n]);
  return () => {
    const out = view(new Float32Array(n * n), [n, n]);
    backend.matmul({ a, b, out });
    return out.buffer as Float32Array;
  };
}

function tfjsPeer(backend: 'cpu' | 'wasm' | 'webgpu'): PeerDescriptor {
  return {
    name: `tfjs-${backend}`,
    ours: false,
    async setup() {
      const { setupTfjs } = await import('./peers/tfjs.js');
      const got = await setupTfjs(backend);
      if (got !== backend) throw new Error(`TF.js backend '${got}' instead of '${backend}'`);
      if (backend !== 'wasm') return '';
      const tf = await import('@tensorflow/tfjs');
      const flag = (f: string) => (tf.env().getBool(f) ? 'yes' : 'no');
      return `SIMD ${flag('WASM_HAS_SIMD_SUPPORT')}, threads ${flag('WASM_HAS_MULTITHREAD_SUPPORT')}`;
    },
    async matmul(n, minSeconds) {
      const tf = await import('@tensorflow/tfjs');
      const a = tf.tensor2d(randomF32(n * n, 1), [n, n]);
      const b = tf.tensor2d(randomF32(n * n, 2), [n, n]);
      const timing = await timeRuns(async () => {
        const c = tf.matMul(a, b);
        await c.data();
        c.dispose();
      }, minSeconds);
      a.dispose();
      b.dispose();
      return timing;
    },
  };
}

/** Our CPU peer: the wasm SIMD kernel (the default where the host has SIMD128), or the JavaScript one. */
function oursCpuPeer(name: string, wasm: 'auto' | 'off'): PeerDescriptor {
  return {
    name,
    // The JavaScript path is a column to compare with (ours-cpu / ours-cpu-js is the wasm kernel's gain).
    ours: wasm === 'auto',
    async setup() {
      setCpuWasm(wasm);
      const w = cpuWasmStatus();
      const kernel = w.active ? `wasm SIMD128${w.relaxedSimd ? ' + relaxed FMA' : ''}` : 'JavaScript';
      const threads =
        os.availableParallelism() > 1 && process.env.WEBRNN_CPU_THREADS !== '1'
          ? `two threads from 2M multiply-adds${w.active && !w.sharedMemory ? ' (JavaScript only)' : ''}`
          : 'one thread';
      return `${kernel}, ${threads}`;
    },
    async matmul(n, minSeconds) {
      return timeRuns(oursCpuMatmul(n), minSeconds);
    },
  };
}

const PEERS: readonly PeerDescriptor[] = [
  oursCpuPeer('ours-cpu', 'auto'),
  oursCpuPeer('ours-cpu-js', 'off'),
  {
    name: 'ours-webgpu',
    ours: true,
    async setup() {
      const core = await import('@webrnn/core');
      if (!(await core.initWebGPU())) throw new Error(`no WebGPU adapter: ${core.lastWebGPUError()}`);
      return '';
    },
    async matmul(n, minSeconds) {
      const { rand } = await import('@webrnn/core');
      const a = rand([n, n], { device: 'webgpu' });
      const b = rand([n, n], { device: 'webgpu' });
      const timing = await timeRuns(async () => {
        const c = a.matmul(b);
        await c.data();
        c.dispose();
      }, minSeconds);
      a.dispose();
      b.dispose();
      return timing;
    },
  },
  tfjsPeer('cpu'),
  tfjsPeer('wasm'),
  tfjsPeer('webgpu'),
];

/** Child process: measure one peer at every size, one JSON line each (an `error` line if it cannot run). */
async function child(name: string, sizes: readonly number[], minSeconds: number): Promise<void> {
  const peer = PEERS.find((p) => p.name === name);
  const emit = (row: Row) => console.log(JSON.stringify(row));
  if (!peer) {
    emit({ peer: name, n: 0, gflops: 0, seconds: 0, runs: 0, error: `unknown peer '${name}'` });
    return;
  }
  let note: string;
  try {
    note = await peer.setup();
  } catch (e) {
    emit({ peer: name, n: 0, gflops: 0, seconds: 0, runs: 0, error: (e as Error).message });
    return;
  }
  for (const n of sizes) {
    try {
      // Short cells (small n) get more time: the median is steadier over more batches.
      const { seconds, runs } = await peer.matmul(n, n <= 256 ? 2 * minSeconds : minSeconds);
      emit({ peer: name, n, gflops: (2 * n ** 3) / seconds / 1e9, seconds, runs, ...(note ? { note } : {}) });
    } catch (e) {
      emit({ peer: name, n, gflops: 0, seconds: 0, runs: 0, error: (e as Error).message });
    }
  }
}

/** Run one peer in its own process (same script, `--peer`) and collect its JSON lines. */
function runPeer(name: string, sizes: readonly number[], minSeconds: number): Row[] {
  process.stdout.write(`  ${name.padEnd(12)} `);
  const started = Date.now();
  const self = fileURLToPath(import.meta.url);
  const res = spawnSync(
    process.execPath,
    [self, `--peer=${name}`, `--sizes=${sizes.join(',')}`, `--seconds=${minSeconds}`],
    {
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
      maxBuffer: 1 << 24,
    },
  );
  const rows = (res.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Row);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const failed = rows.filter((r) => r.error);
  if (res.status !== 0 || rows.length === 0 || failed.length > 0) {
    const why =
      failed[0]?.error ??
      res.error?.message ??
      (res.stderr || res.stdout || `exit ${res.status}`).trim().split('\n').slice(-3).join(' | ');
    console.log(
      `${rows.length > failed.length ? 'partly done' : 'skipped'} (${seconds} s): ${why.slice(0, 300)}`,
    );
  } else {
    console.log(`done (${seconds} s)`);
  }
  return rows.filter((r) => !r.error);
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Markdown: one row per size, GFLOP/s per peer, then each of our peers over each other peer. */
function table(rows: readonly Row[], peers: readonly string[], sizes: readonly number[]): string {
  const cols = peers.filter((p) => rows.some((r) => r.peer === p));
  const ours = cols.filter((p) => PEERS.find((d) => d.name === p)?.ours);
  const others = cols.filter((p) => !ours.includes(p));
  const ratios = ours.flatMap((o) => others.map((p) => [o, p] as const));
  const head = [...cols.map((c) => `${c} GFLOP/s`), ...ratios.map(([o, p]) => `${o} / ${p}`)];
  const lines = [`| n | ${head.join(' | ')} |`, `| ---: | ${head.map(() => '---:').join(' | ')} |`];
  for (const n of sizes) {
    const get = (p: string) => rows.find((r) => r.peer === p && r.n === n)?.gflops;
    const cells = cols.map((c) => {
      const v = get(c);
      return v === undefined ? '' : fmt(v);
    });
    const rs = ratios.map(([o, p]) => {
      const a = get(o);
      const b = get(p);
      return a === undefined || b === undefined ? '' : `${fmt(a / b)}x`;
    });
    lines.push(`| ${n} | ${[...cells, ...rs].join(' | ')} |`);
  }
  const notes = cols
    .map((c) => [c, rows.find((r) => r.peer === c && r.note)?.note] as const)
    .filter(([, note]) => note);
  if (notes.length > 0) lines.push('', ...notes.map(([c, note]) => `- ${c}: ${note}`));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      peer: { type: 'string' },
      peers: { type: 'string', default: DEFAULT_PEERS.join(',') },
      sizes: { type: 'string', default: '256,512,1024' },
      seconds: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(path.dirname(fileURLToPath(import.meta.url)), '../results') },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const minSeconds = Number(values.seconds);
  if (values.peer) {
    await child(values.peer, sizes, minSeconds);
    process.exit(0); // Dawn may keep the event loop alive
  }
  const peers = values.peers.split(',');
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.availableParallelism()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  console.log(`float32 matmul on ${machine}, sizes ${sizes.join(', ')}, one process per peer`);
  const rows = peers.flatMap((p) => runPeer(p, sizes, minSeconds));
  const md = table(rows, peers, sizes);
  console.log(`\n${md}\n`);
  mkdirSync(values.out, { recursive: true });
  const date = new Date().toISOString();
  writeFileSync(path.join(values.out, 'matmul.json'), JSON.stringify({ machine, date, rows }, null, 2));
  writeFileSync(path.join(values.out, 'matmul.md'), `Measured ${date} on ${machine}.\n\n${md}\n`);
  console.log(`results written to ${values.out}/matmul.{json,md}`);
}

await main();
