/**
 * @webrnn/core: tensors on the CPU or a WebGPU device, ops with their gradients, and the tape.
 */
import './ops/methods.js';

export type { Backend, DeviceName, MemoryInfo, View } from './backends/backend.js';
export {
  getBackend,
  getDefaultDevice,
  hasBackend,
  registerBackend,
  setDefaultDevice,
} from './backends/registry.js';
export { CpuBackend } from './backends/cpu/index.js';
export type { DType, TypedArray } from './dtype.js';
export { WebrnnError } from './errors.js';
export { Tensor, type NestedArray } from './tensor.js';
export { keep, memory, tidy, type MemoryReport } from './memory.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { isGradEnabled, noGrad, withGradMode } from './autograd/gradMode.js';
export { vjp } from './autograd/vjp.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export * from './ops/index.js';
