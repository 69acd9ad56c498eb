/// <reference types="@webgpu/types" />
import { type Kernel, type Spec, canonical } from '@webrnn/kernels';
import type { ErrorLog } from './queue.js';

/** A compiled kernel: its pipeline, the layout its bind groups follow, and the kernel (for its uniform block). */
export interface Compiled {
  readonly kernel: Kernel;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

const BUFFER_TYPE: Record<Kernel['bindings'][number], GPUBufferBindingType> = {
  read: 'read-only-storage',
  read_write: 'storage',
  uniform: 'uniform',
};

const dumpWgsl = () => typeof process !== 'undefined' && process.env?.WEBRNN_DUMP_WGSL === '1';

/**
 * Compile once per kernel key. The key is computed from the spec on every launch, but the WGSL is generated only on
 * a miss. Compilation errors are caught by a validation scope and reported with the op and the kernel key;
 * `WEBRNN_DUMP_WGSL=1` prints each kernel's source with its key when it is first compiled.
 */
export class PipelineCache {
  private readonly cache = new Map<string, Compiled>();

  constructor(
    private readonly device: GPUDevice,
    private readonly errors: ErrorLog,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  get<S extends Spec>(op: string, spec: S, build: (spec: S) => Kernel): Compiled {
    const key = canonical(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const kernel = build(spec);
    if (dumpWgsl()) console.log(`// webrnn kernel for ${op}: ${kernel.key}\n${kernel.code}`);
    const label = `${op} ${kernel.key}`;
    this.device.pushErrorScope('validation');
    const layout = this.device.createBindGroupLayout({
      label,
      entries: kernel.bindings.map((kind, binding) => ({
        binding,
        visibility: 0x4, // GPUShaderStage.COMPUTE
        // The uniform block is a slot of the queue's uniform buffer, chosen per launch by a dynamic offset.
        buffer: { type: BUFFER_TYPE[kind], hasDynamicOffset: kind === 'uniform' },
      })),
    });
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: {
        module: this.device.createShaderModule({ label, code: kernel.code }),
        entryPoint: kernel.entryPoint,
      },
    });
    this.errors.popScope(this.device, (m) => `${op}: kernel ${kernel.key} failed to compile: ${m}`);
    const compiled = { kernel, pipeline, layout };
    this.cache.set(key, compiled);
    return compiled;
  }
}
