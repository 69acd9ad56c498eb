/**
 * @webrnn/core: tensors on the CPU or a WebGPU device, ops with their gradients, and the tape.
 */
// The bare import keeps ops/methods.ts's declaration merging (the method types of Tensor) in index.d.ts, where a
// named import used only at run time is elided; it attaches nothing: `attachTensorMethods()` below does.
import './ops/methods.js';
import { attachTensorMethods } from './ops/methods.js';

export type {
  Backend,
  CellLayout,
  CellViews,
  DeviceName,
  GatherViews,
  LstmGateOrder,
  MemoryInfo,
  ScatterAddViews,
  View,
  Views,
} from './backends/backend.js';
export {
  getBackend,
  getDefaultDevice,
  hasBackend,
  registerBackend,
  setDefaultDevice,
} from './backends/registry.js';
export { CpuBackend } from './backends/cpu/index.js';
export { type CpuWasmMode, cpuWasmStatus, setCpuWasm } from './backends/cpu/wasm/runtime.js';
export { cpuThreadStatus } from './backends/cpu/matmulThreads.js';
export {
  type AdapterDescription,
  type WebGPUOptions,
  WebGPUBackend,
  initWebGPU,
  lastWebGPUError,
} from './backends/webgpu/index.js';
export {
  type ChooseDeviceOptions,
  type DeviceDecision,
  type DeviceProbe,
  type DeviceProbeRun,
  type DeviceTiming,
  type OpenedDevice,
  chooseDevice,
  forgetDeviceChoices,
} from './chooseDevice.js';
export { type DType, type TypedArray, typedArrayFor } from './dtype.js';
export { WebrnnError, fmtShape } from './errors.js';
export {
  DAWN_FILTERED_ENV,
  DAWN_LIMIT_WARNING,
  DawnWarningFilter,
  relaunchWithoutDawnWarnings,
} from './quietDawn.js';
export { Tensor, type NestedArray } from './tensor.js';
export { Storage } from './storage.js';
export { keep, memory, type MemoryReport } from './memory.js';
export { tidy } from './scopes.js';
export { Generator, type GeneratorState, defaultGenerator, manualSeed } from './random.js';
export { isGradEnabled, noGrad, withGradMode } from './autograd/gradMode.js';
export { vjp, vjpObserving } from './autograd/vjp.js';
export type { BackwardResult, VjpOptions } from './autograd/tape.js';
export { boundary } from './autograd/boundary.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export * from './ops/index.js';

// The op methods (`a.add(b)`, `loss.backward()`) are attached here, once, before anything can use a tensor.
attachTensorMethods();
