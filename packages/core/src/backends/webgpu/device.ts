/// <reference types="@webgpu/types" />
import { registerBackend } from '../registry.js';
import { WebGPUBackend } from './backend.js';

/**
 * Finding a WebGPU device: the browser's `navigator.gpu`, or in Node Dawn through the `webgpu` package, trying
 * Vulkan first (core feature level) and OpenGL ES second (compatibility level). `WEBRNN_BACKEND=cpu` turns WebGPU
 * off; `WEBRNN_DAWN_BACKEND=vulkan|opengles` picks Dawn's backend.
 */
export interface WebGPUOptions {
  /** Dawn backend to use (Node only). */
  readonly dawnBackend?: 'vulkan' | 'opengles';
  /** Print the adapter chosen. */
  readonly verbose?: boolean;
}

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly featureLevel: 'core' | 'compatibility';
  readonly dawnBackend?: string;
}

let lastError = '';

/** Why the last initWebGPU() found no device (one line), or '' when it found one. */
export function lastWebGPUError(): string {
  return lastError;
}

let current: WebGPUBackend | null = null;
/**
 * The GPU instance and adapter must stay referenced while their device lives: in Node, Dawn's instance is
 * destroyed when the JS object is collected, which crashes the process under a running device.
 */
const keepAlive: unknown[] = [];

/**
 * Initialise the WebGPU backend and register it as device 'webgpu'. Resolves to the backend, or to null (with the
 * reason in `lastWebGPUError()`) when no adapter can be had; never throws for a missing adapter.
 */
export async function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUBackend | null> {
  if (current && !current.destroyed) return current;
  lastError = '';
  if (typeof process !== 'undefined' && process.env?.WEBRNN_BACKEND === 'cpu') {
    lastError = 'WEBRNN_BACKEND=cpu';
    return null;
  }
  const tries: string[] = [];
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const candidates: [string, () => Promise<GPU | null>, 'core' | 'compatibility'][] = [];
  if (nav?.gpu) candidates.push(['navigator.gpu', async () => nav.gpu!, 'core']);
  else {
    const wanted =
      options.dawnBackend ?? (process.env.WEBRNN_DAWN_BACKEND as 'vulkan' | 'opengles' | undefined);
    const order = wanted ? [wanted] : (['vulkan', 'opengles'] as const);
    for (const b of order)
      candidates.push([`Dawn ${b}`, () => dawnGpu(b), b === 'vulkan' ? 'core' : 'compatibility']);
  }
  for (const [name, getGpu, level] of candidates) {
    try {
      const gpu = await getGpu();
      if (!gpu) throw new Error('the webgpu package could not be loaded');
      const adapter = await gpu.requestAdapter(
        level === 'compatibility'
          ? ({ featureLevel: 'compatibility' } as GPURequestAdapterOptions)
          : undefined,
      );
      if (!adapter) throw new Error('no adapter');
      keepAlive.push(gpu, adapter);
      const device = await adapter.requestDevice({ requiredLimits: limitsOf(adapter) });
      const info = adapter.info;
      const desc: AdapterDescription = {
        vendor: info?.vendor ?? '',
        architecture: info?.architecture ?? '',
        description: info?.description ?? '',
        featureLevel: level,
        dawnBackend: name,
      };
      current = new WebGPUBackend(device, desc);
      registerBackend(current);
      if (options.verbose) {
        console.log(
          `webgpu: ${desc.vendor || 'unknown vendor'} ${desc.architecture} ${desc.description} (${name}, ${level} feature level)`,
        );
      }
      return current;
    } catch (e) {
      tries.push(`${name}: ${(e as Error).message}`);
    }
  }
  lastError = `no WebGPU adapter (${tries.join('; ') || 'no candidate'})`;
  return null;
}

async function dawnGpu(backend: 'vulkan' | 'opengles'): Promise<GPU | null> {
  if (backend === 'opengles' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  const mod = (await import('webgpu')) as { create(o: string[]): GPU; globals: object };
  Object.assign(globalThis, mod.globals);
  return mod.create([`backend=${backend}`]);
}

/** The adapter's own limits for what large tensors need (the defaults are much smaller). */
function limitsOf(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxBufferSize: l.maxBufferSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}
