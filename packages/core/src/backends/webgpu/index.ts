export { type AdapterDescription, type WebGPUOptions, initWebGPU, lastWebGPUError } from './device.js';
export { WebGPUBackend } from './backend.js';
export type { MatmulVariant } from './matmul.js';
