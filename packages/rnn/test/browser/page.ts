import { initWebGPU, lastWebGPUError, manualSeed, matmul, randn } from '@webrnn/rnn';
import { type CheckResult, runPageChecks } from './pageChecks.js';
import { trainTutorialNet } from './tutorialNet.js';

/**
 * The test page's script (bundled by browserChromium.test.ts with esbuild, as a user would bundle the packages):
 * on load, trains the tutorial net on the CPU and on WebGPU (navigator.gpu) and runs the op and module checks on
 * both, then leaves the result in `globalThis.webrnnResult` for the test to read.
 */
export interface PageResult {
  readonly cpu: number[];
  readonly webgpu: number[] | null;
  readonly adapter: string;
  readonly webgpuError: string;
  readonly checks: CheckResult[];
  /** Whether this page may compile code from strings (false under a CSP without 'unsafe-eval'). */
  readonly evalAllowed: boolean;
  readonly crossOriginIsolated: boolean;
  readonly sharedArrayBuffer: boolean;
  /** Large CPU matmuls (threaded where the page may): the worst |error| against a float64 loop. */
  readonly bigMatmulError: number;
  /** Whether the page fetched the CPU matmul's worker script (it starts one only when cross-origin isolated). */
  readonly matmulWorkerLoaded: boolean;
  readonly error?: string;
}

function evalAllowed(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

/** Products large enough for the second thread, a pause between them so that the worker can start. */
async function bigMatmuls(): Promise<number> {
  manualSeed(9);
  let worst = 0;
  for (let round = 0; round < 4; round++) {
    const [M, K, N] = [256, 300, 200];
    const a = randn([M, K]);
    const b = randn([K, N]);
    const c = matmul(a, b).dataSync();
    const A = a.dataSync();
    const B = b.dataSync();
    for (let i = 0; i < M; i += 7) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * N + j]!;
        worst = Math.max(worst, Math.abs(s - c[i * N + j]!));
      }
    }
    for (const t of [a, b]) t.dispose();
    await new Promise((r) => setTimeout(r, 100));
  }
  return worst;
}

function matmulWorkerLoaded(): boolean {
  const perf = (globalThis as { performance: { getEntriesByType(t: string): { name: string }[] } })
    .performance;
  return perf.getEntriesByType('resource').some((e) => e.name.endsWith('/matmulWorker.js'));
}

async function run(): Promise<PageResult> {
  const bigMatmulError = await bigMatmuls();
  const cpu = await trainTutorialNet('cpu');
  const gpu = await initWebGPU();
  const webgpu = gpu ? await trainTutorialNet('webgpu') : null;
  // The op and module checks only where the address asks for them (`?checks`): one page variant runs them.
  const search = (globalThis as { location?: { search: string } }).location?.search ?? '';
  const checks = gpu && search.includes('checks') ? await runPageChecks() : [];
  const d = gpu?.adapter;
  gpu?.destroy();
  return {
    cpu,
    webgpu,
    adapter: d ? `${d.vendor} ${d.architecture} (${d.source})` : '',
    webgpuError: lastWebGPUError(),
    checks,
    evalAllowed: evalAllowed(),
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    bigMatmulError,
    matmulWorkerLoaded: matmulWorkerLoaded(),
  };
}

const g = globalThis as { webrnnResult?: PageResult };
run().then(
  (r) => {
    g.webrnnResult = r;
  },
  (e: Error) => {
    g.webrnnResult = {
      cpu: [],
      webgpu: null,
      adapter: '',
      webgpuError: '',
      checks: [],
      evalAllowed: evalAllowed(),
      crossOriginIsolated: false,
      sharedArrayBuffer: false,
      bigMatmulError: Number.NaN,
      matmulWorkerLoaded: false,
      error: `${e.name}: ${e.message}\n${e.stack ?? ''}`,
    };
  },
);
