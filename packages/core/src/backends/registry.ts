import { WebrnnError } from '../errors.js';
import type { Backend, DeviceName } from './backend.js';
import { CpuBackend } from './cpu/index.js';

/** Backends by device name. The CPU one always exists; WebGPU registers itself once initialised. */
const backends = new Map<DeviceName, Backend>([['cpu', new CpuBackend()]]);
let defaultDevice: DeviceName = 'cpu';

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function unregisterBackend(name: DeviceName): void {
  if (name === 'cpu') throw new WebrnnError('unregisterBackend', 'the cpu backend cannot be removed');
  backends.delete(name);
  if (defaultDevice === name) defaultDevice = 'cpu';
}

export function getBackend(name: DeviceName = defaultDevice): Backend {
  const b = backends.get(name);
  if (!b) {
    throw new WebrnnError(
      'device',
      name === 'webgpu'
        ? "no 'webgpu' backend: call `await initWebGPU()` first (it reports why when no adapter is found)"
        : `unknown device '${name}', expected 'cpu' or 'webgpu'`,
    );
  }
  return b;
}

export function hasBackend(name: DeviceName): boolean {
  return backends.has(name);
}

/** The device used when a creation function is given none. */
export function setDefaultDevice(name: DeviceName): void {
  getBackend(name);
  defaultDevice = name;
}

export function getDefaultDevice(): DeviceName {
  return defaultDevice;
}
