import { initWebGPU, lastWebGPUError } from '@webrnn/rnn';
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
  readonly error?: string;
}

function evalAllowed(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

async function run(): Promise<PageResult> {
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
      error: `${e.name}: ${e.message}\n${e.stack ?? ''}`,
    };
  },
);
