// preserve: the published .d.ts need WebGPU's types too (a user's tsc without skipLibCheck).
/// <reference types="@webgpu/types" preserve="true" />
import { registerBackend } from '../registry.js';
import { WebGPUBackend } from './backend.js';
import { kernelChoicesFromEnv } from './envChoices.js';

/**
 * Finding a WebGPU device: the browser's `navigator.gpu`, or in Node Dawn through the `webgpu` package, trying
 * Vulkan first (core feature level) and OpenGL ES second (compatibility level). `WEBRNN_BACKEND=cpu` turns WebGPU
 * off; `WEBRNN_DAWN_BACKEND=vulkan|opengles` picks Dawn's backend; options override both.
 */
export interface WebGPUOptions {
  /** false (or WEBRNN_BACKEND=cpu) declines WebGPU without looking for an adapter. */
  readonly enabled?: boolean;
  /** Dawn backend to use (Node only); default: Vulkan, then OpenGL ES. */
  readonly dawnBackend?: 'vulkan' | 'opengles';
  readonly powerPreference?: GPUPowerPreference;
  /** Print the adapter chosen, or why there is none. */
  readonly verbose?: boolean;
}

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly featureLevel: 'core' | 'compatibility';
  /** Where the adapter came from: 'navigator.gpu', 'Dawn vulkan' or 'Dawn opengles'. */
  readonly source: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP). */
  readonly software: boolean;
  /** The subgroup size when the adapter has subgroups of one fixed size (used by the CPU matmul). */
  readonly subgroupSize: number | null;
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp/i;

let lastError = '';
let current: WebGPUBackend | null = null;
/**
 * The GPU instance and adapter must stay referenced while their device lives: in Node, Dawn's instance is
 * destroyed when its JS object is collected, which crashes the process under a running device.
 */
const keepAlive: unknown[] = [];

/** Why the last initWebGPU() found no device (one line), or '' when it found one. */
export function lastWebGPUError(): string {
  return lastError;
}

const env = (name: string): string | undefined =>
  typeof process !== 'undefined' ? process.env?.[name] : undefined;

/**
 * Initialise the WebGPU backend and register it as device 'webgpu'. Resolves to the backend, or to null (with the
 * reason in `lastWebGPUError()`) when WebGPU is declined or no adapter can be had; never throws for a missing
 * adapter. Call `destroy()` on the backend when done: Dawn keeps Node alive while a device lives.
 */
export async function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUBackend | null> {
  if (current && !current.destroyed) return current;
  lastError = '';
  const say = (line: string) => {
    if (options.verbose) console.log(`webgpu: ${line}`);
  };
  if (options.enabled === false || (options.enabled === undefined && env('WEBRNN_BACKEND') === 'cpu')) {
    lastError = 'WebGPU declined (WEBRNN_BACKEND=cpu or enabled: false)';
    say(lastError);
    return null;
  }
  // A bad WEBRNN_MATMUL or WEBRNN_PERSISTENT_LSTM is an error here, not a device that silently fails to start.
  const choices = kernelChoicesFromEnv();
  const candidates: [string, () => Promise<GPU | null>, 'core' | 'compatibility'][] = [];
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const inNode =
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ===
    'string';
  if (nav?.gpu) candidates.push(['navigator.gpu', async () => nav.gpu!, 'core']);
  else if (!inNode) {
    lastError =
      'no WebGPU in this browser (no navigator.gpu: Chrome or Edge 113+, on Linux with --enable-unsafe-webgpu, ' +
      'in a secure context: https or localhost)';
    say(lastError);
    return null;
  } else {
    const wanted = options.dawnBackend ?? (env('WEBRNN_DAWN_BACKEND') as 'vulkan' | 'opengles' | undefined);
    for (const b of wanted ? [wanted] : (['vulkan', 'opengles'] as const)) {
      candidates.push([`Dawn ${b}`, () => dawnGpu(b), b === 'vulkan' ? 'core' : 'compatibility']);
    }
  }
  const tries: string[] = [];
  for (const [source, getGpu, featureLevel] of candidates) {
    try {
      const gpu = await getGpu();
      if (!gpu) throw new Error('the webgpu package could not be loaded');
      const adapter = await gpu.requestAdapter({
        ...(options.powerPreference ? { powerPreference: options.powerPreference } : {}),
        ...(featureLevel === 'compatibility' ? { featureLevel } : {}),
      } as GPURequestAdapterOptions);
      if (!adapter) throw new Error('no adapter');
      keepAlive.push(gpu, adapter);
      const features = (['subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
      const device = await adapter.requestDevice({
        requiredFeatures: features,
        requiredLimits: limitsOf(adapter),
      });
      const description = describe(adapter, source, featureLevel, features);
      current = new WebGPUBackend(device, description, choices);
      registerBackend(current);
      say(
        `${[description.vendor, description.architecture, description.description].filter(Boolean).join(' ') || 'unknown adapter'} (${source}, ${featureLevel} feature level${description.software ? ', software' : ''})`,
      );
      return current;
    } catch (e) {
      tries.push(`${source}: ${(e as Error).message}`);
    }
  }
  const hint = nav?.gpu ? '' : '; on Linux without a GPU, scripts/setup-webgpu.sh installs a software one';
  lastError = `no WebGPU adapter (${tries.join('; ') || 'no candidate'})${hint}`;
  say(lastError);
  return null;
}

async function dawnGpu(backend: 'vulkan' | 'opengles'): Promise<GPU | null> {
  if (typeof process === 'undefined') return null;
  // Dawn's OpenGL ES backend needs a display; the surfaceless EGL platform needs none.
  if (backend === 'opengles' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  // Dawn (the optional `webgpu` package) is Node-only: named through a variable so that bundlers for the browser
  // neither resolve nor warn about it (webpack and Vite keep such an import as it is with these comments).
  const dawn = 'webgpu';
  const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ dawn)) as {
    create(o: string[]): GPU;
    globals: object;
  };
  Object.assign(globalThis, mod.globals);
  return mod.create([`backend=${backend}`]);
}

/** The adapter's own limits where large tensors and our kernels need more than the defaults. */
function limitsOf(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxBufferSize: l.maxBufferSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
}

function describe(
  adapter: GPUAdapter,
  source: string,
  featureLevel: 'core' | 'compatibility',
  features: readonly string[],
): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const text = `${info.vendor} ${info.architecture} ${info.description}`;
  const fixed = info.subgroupMinSize !== undefined && info.subgroupMinSize === info.subgroupMaxSize;
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    featureLevel,
    source,
    software: SOFTWARE.test(text) || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
    subgroupSize: features.includes('subgroups') && fixed ? info.subgroupMinSize! : null,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
  };
}
