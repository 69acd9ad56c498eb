import type { MemoryInfo } from './backends/backend.js';
import { getBackend, hasBackend } from './backends/registry.js';
import { checkTensor } from './ops/operands.js';
import { markKept } from './scopes.js';
import { stats } from './storage.js';
import type { Tensor } from './tensor.js';

/** Exempt `t` from every enclosing and future `tidy`; its owner disposes it. */
export function keep<T extends Tensor>(t: T): T {
  checkTensor('keep', t, 't');
  return markKept(t);
}

export interface MemoryReport {
  /** Tensor objects not yet disposed (including those a live autograd graph saved). */
  readonly tensors: number;
  /** Storages (buffers) alive, and their bytes, over all devices. */
  readonly storages: number;
  readonly bytes: number;
  /** Per-backend buffer statistics (the WebGPU one includes its pool). */
  readonly cpu: MemoryInfo;
  readonly webgpu?: MemoryInfo;
}

export function memory(): MemoryReport {
  return {
    tensors: stats.tensors,
    storages: stats.storages,
    bytes: stats.bytes,
    cpu: getBackend('cpu').memory(),
    ...(hasBackend('webgpu') ? { webgpu: getBackend('webgpu').memory() } : {}),
  };
}
