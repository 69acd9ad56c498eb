import type { OpEntry } from '../cases.js';
import { BINARY, IN_PLACE, PARAM_UNARY, UNARY } from './elementwise.js';
import { CREATION } from './creation.js';
import { AUTOGRAD, CELLS, LOSS, MATMUL, REDUCE, SCAN, SOFTMAX, SORT } from './numeric.js';
import { STRUCTURE } from './structure.js';

/** Every public op of @webrnn/core, as the differential harness knows it. */
export const OP_TABLE: readonly OpEntry[] = [
  ...UNARY,
  ...PARAM_UNARY,
  ...BINARY,
  ...IN_PLACE,
  ...STRUCTURE,
  ...MATMUL,
  ...REDUCE,
  ...SOFTMAX,
  ...SCAN,
  ...SORT,
  ...LOSS,
  ...CELLS,
  ...AUTOGRAD,
  ...CREATION,
];

/**
 * Exports of @webrnn/core that are not ops, each with the reason the harness leaves it out. A new export must go
 * into OP_TABLE or here: the harness's own test checks that nothing is in neither.
 */
export const NOT_OPS: Readonly<Record<string, string>> = {
  getBackend: 'backend registry',
  getDefaultDevice: 'backend registry',
  hasBackend: 'backend registry',
  registerBackend: 'backend registry',
  setDefaultDevice: 'backend registry',
  CpuBackend: 'a backend class (checked kernel by kernel in webgpuBackend.test.ts)',
  WebGPUBackend: 'a backend class (checked kernel by kernel in webgpuBackend.test.ts)',
  setCpuWasm: 'CPU kernel selection (wasm or JavaScript; matmulWasm.test.ts runs both)',
  cpuWasmStatus: 'CPU kernel selection (reports the wasm features found)',
  cpuThreadStatus: "CPU matmul threading (reports the worker's share)",
  initWebGPU: 'device set-up',
  relaunchWithoutDawnWarnings: "process set-up (hides Dawn's adapter warnings; quietDawn.test.ts)",
  DawnWarningFilter: 'process set-up (a stderr line filter; quietDawn.test.ts)',
  DAWN_LIMIT_WARNING: "process set-up (Dawn's warning line)",
  DAWN_FILTERED_ENV: 'process set-up (the environment variable of the filtered child)',
  chooseDevice: 'device choice by measurement (chooseDevice.test.ts, chooseDeviceWebgpu.test.ts)',
  forgetDeviceChoices: 'device choice by measurement (its cache)',
  lastWebGPUError: 'device set-up',
  typedArrayFor: 'dtype helper',
  checkDTypeName: 'dtype helper',
  WebrnnError: 'the error class',
  fmtShape: 'message formatting',
  Tensor: 'the tensor class (its methods forward to the ops)',
  Storage: 'storage class',
  keep: 'memory management (memory.test.ts)',
  memory: 'memory management (every harness run checks it stays flat)',
  tidy: 'memory management (the harness runs every op inside one)',
  Generator: 'random generator (creation entries use it)',
  defaultGenerator: 'random generator',
  manualSeed: 'random generator',
  isGradEnabled: 'grad mode switch',
  noGrad: 'grad mode switch',
  withGradMode: 'grad mode switch',
  vjp: 'autograd entry point (autograd.test.ts)',
  vjpObserving: 'autograd entry point (vjpObserving.test.ts)',
  gradcheck: 'the finite-difference checker itself',
  customOp: 'records a user-written backward; nothing of its own to compare',
  to: 'moves between devices: the harness moves every input with it (tested in webgpu.test.ts)',
  toAsync: 'moves between devices: the harness moves every input with it (tested in webgpu.test.ts)',
};
