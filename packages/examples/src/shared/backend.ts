import {
  type AdapterDescription,
  type DeviceName,
  getBackend,
  initWebGPU,
  lastWebGPUError,
} from '@webrnn/rnn';
import type { BackendChoice } from './cli.js';

/** The device a program runs on, and why (printed as `backend: cpu (reason)`). */
export interface DeviceChoice {
  readonly device: DeviceName;
  readonly reason: string;
}

/** The adapter in one line, e.g. `mesa software llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)`. */
export function describeAdapter(a: AdapterDescription): string {
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
}

/**
 * Choosing the device. `cpu` and `webgpu` are honoured (webgpu fails with the reason when there is no adapter);
 * `auto` takes WebGPU when a hardware adapter is found and the CPU otherwise, and prints which and why. A software
 * adapter (Mesa's llvmpipe, SwiftShader) counts as none for `auto`: it runs these small models about ten times
 * slower than the CPU backend.
 */
export async function chooseBackend(choice: BackendChoice): Promise<DeviceChoice> {
  const pick = (device: DeviceName, reason: string): DeviceChoice => {
    console.log(`backend: ${device} (${reason})`);
    return { device, reason };
  };
  if (choice === 'cpu') return pick('cpu', 'asked for with --backend cpu');
  const gpu = await initWebGPU();
  if (!gpu) {
    if (choice === 'webgpu') throw new Error(`--backend webgpu: ${lastWebGPUError()}`);
    return pick('cpu', lastWebGPUError() || 'no WebGPU adapter');
  }
  const name = describeAdapter(gpu.adapter);
  if (choice === 'webgpu') return pick('webgpu', `asked for; adapter: ${name}`);
  // core tells software adapters (llvmpipe, lavapipe, SwiftShader, WARP, fallback adapters) apart: one test.
  if (gpu.adapter.software) {
    gpu.destroy();
    const short = name.split(':')[0];
    return pick(
      'cpu',
      `only a software WebGPU adapter (${short}), slower than the CPU; --backend webgpu forces it`,
    );
  }
  return pick('webgpu', `adapter: ${name}`);
}

/** Release the GPU device at the end of a program: Dawn keeps the process alive (and a core busy) otherwise. */
export function teardown(device: DeviceName): void {
  if (device === 'webgpu') getBackend('webgpu').destroy();
}
