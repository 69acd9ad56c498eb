/**
 * @webrnn/core: tensors on the CPU or a WebGPU device, ops with their gradients, and the tape.
 */
import './ops/methods.js';

export type { Backend, DeviceName, LstmGateOrder, MemoryInfo, View } from './backends/backend.js';
export {
  getBackend,
  getDefaultDevice,
  hasBackend,
  registerBackend,
  setDefaultDevice,
} from './backends/registry.js';
export { CpuBackend } from './backends/cpu/index.js';
export {
  type AdapterDescription,
  type WebGPUOptions,
  WebGPUBackend,
  initWebGPU,
  lastWebGPUError,
} from './backends/webgpu/index.js';
export { type DType, type TypedArray, typedArrayFor } from './dtype.js';
export { WebrnnError, fmtShape } from './errors.js';
export { Tensor, type NestedArray } from './tensor.js';
export { Storage } from './storage.js';
export { keep, memory, tidy, type MemoryReport } from './memory.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { isGradEnabled, noGrad, withGradMode } from './autograd/gradMode.js';
export { vjp } from './autograd/vjp.js';
export { boundary } from './autograd/boundary.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export * from './ops/index.js';
