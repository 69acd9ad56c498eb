/**
 * float32 n x n matmul throughput on WebGPU, in GFLOP/s (2 n^3 per product): our kernel as `auto` picks it (the
 * subgroup kernel on CPU adapters such as lavapipe, the tiled one on GPUs), our deliberately naive kernel (one
 * thread per output element), and TensorFlow.js 4.22's `webgpu` backend on the same Dawn adapter. Each timed run
 * is one product plus the read of its result, as a user would run it (`await c.data()`); the median of the runs
 * after a warm-up (which also compiles the kernels).
 *
 *   node bench/dist/webgpuMatmul.js [256,512,1024]   prints the three figures and the ratios per size
 */
import { pathToFileURL } from 'node:url';
import { type WebGPUBackend, initWebGPU, rand } from '@webrnn/core';

type Tf = typeof import('@tensorflow/tfjs-core');

let ours: WebGPUBackend | null = null;
let tf: Tf | null = null;

/** Our WebGPU backend (initialised once); throws with the reason when there is no adapter. */
export async function setupOursWebgpu(): Promise<WebGPUBackend> {
  if (ours && !ours.destroyed) return ours;
  const { lastWebGPUError } = await import('@webrnn/core');
  ours = await initWebGPU();
  if (!ours) throw new Error(lastWebGPUError());
  return ours;
}

/**
 * TF.js on its webgpu backend. It finds WebGPU through `navigator.gpu` when its module loads and asks that for a
 * high-performance adapter (default feature level: Vulkan here), so the `webgpu` package's GPU goes there first.
 */
export async function setupTfjsWebgpu(): Promise<Tf> {
  if (tf) return tf;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  }
  const core = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await core.setBackend('webgpu'))) throw new Error('TF.js could not initialise its webgpu backend');
  await core.ready();
  tf = core;
  return core;
}

/** Release both devices (Dawn keeps Node alive while a device lives). */
export async function teardownWebgpuMatmul(): Promise<void> {
  ours?.destroy();
  ours = null;
  if (tf) {
    const backend = tf.findBackend('webgpu') as { device?: { destroy(): void } } | undefined;
    tf.engine().reset();
    backend?.device?.destroy();
    tf = null;
  }
}

/** Median seconds of `once` after `warmup` runs, running for at least `minSeconds` and 3 runs. */
async function median(once: () => Promise<void>, warmup = 2, minSeconds = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < minSeconds * 1000) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]! / 1000;
}

const gflops = (n: number, seconds: number) => (2 * n ** 3) / seconds / 1e9;

async function oursWith(variant: WebGPUBackend['matmulVariant'], n: number): Promise<number> {
  const backend = await setupOursWebgpu();
  const previous = backend.matmulVariant;
  backend.matmulVariant = variant;
  const a = rand([n, n], { device: 'webgpu' });
  const b = rand([n, n], { device: 'webgpu' });
  try {
    return gflops(
      n,
      await median(async () => {
        const c = a.matmul(b);
        await c.data();
        c.dispose();
      }),
    );
  } finally {
    backend.matmulVariant = previous;
    a.dispose();
    b.dispose();
  }
}

/** Our matmul as the backend picks it. */
export const oursWebgpuMatmul = (n: number): Promise<number> => oursWith('auto', n);

/** Our naive kernel: one thread per element of C, the yardstick the tuned kernel is measured against. */
export const oursNaiveWebgpuMatmul = (n: number): Promise<number> => oursWith('naive', n);

/** TensorFlow.js's webgpu backend. */
export async function tfjsWebgpuMatmul(n: number): Promise<number> {
  const t = await setupTfjsWebgpu();
  const a = t.randomUniform([n, n]);
  const b = t.randomUniform([n, n]);
  try {
    return gflops(
      n,
      await median(async () => {
        const c = t.matMul(a, b);
        await c.data();
        c.dispose();
      }),
    );
  } finally {
    a.dispose();
    b.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
  const backend = await setupOursWebgpu();
  const a = backend.adapter;
  console.log(
    `adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' ')} (${a.source})`,
  );
  for (const n of sizes) {
    const [mine, naive, theirs] = [
      await oursWebgpuMatmul(n),
      await oursNaiveWebgpuMatmul(n),
      await tfjsWebgpuMatmul(n),
    ];
    console.log(
      `n=${n}: ours ${mine.toFixed(2)} GFLOP/s, naive ${naive.toFixed(2)}, TF.js webgpu ${theirs.toFixed(2)}` +
        ` -> ${(mine / theirs).toFixed(2)}x TF.js, ${(mine / naive).toFixed(1)}x naive`,
    );
  }
  await teardownWebgpuMatmul();
}
