import {
  type AdapterDescription,
  type DeviceName,
  chooseDevice,
  getBackend,
  initWebGPU,
  lastWebGPUError,
} from '@webrnn/rnn';
import type { BackendChoice } from './cli.js';
import type { AutoProbe } from './probe.js';

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
 * Choosing the device. `cpu` and `webgpu` are honoured as given (`cpu` never starts Dawn; `webgpu` fails with the
 * reason when there is no adapter). `auto` measures: core's chooseDevice times the program's probe (its model at
 * its sizes, one training step; shared/probe.ts) on the CPU and on the WebGPU adapter when there is one, and takes
 * the faster, once per shape class and process. The choice and the figures are printed, e.g.
 * `backend: cpu (measured: cpu 3.1 ms/step, webgpu 28 ms/step on llvmpipe)`.
 */
export async function chooseBackend(choice: BackendChoice, auto: AutoProbe): Promise<DeviceChoice> {
  const pick = (device: DeviceName, reason: string): DeviceChoice => {
    console.log(`backend: ${device} (${reason})`);
    return { device, reason };
  };
  if (choice === 'cpu') return pick('cpu', 'asked for with --backend cpu');
  if (choice === 'webgpu') {
    const gpu = await initWebGPU();
    if (!gpu) throw new Error(`--backend webgpu: ${lastWebGPUError()}`);
    return pick('webgpu', `asked for; adapter: ${describeAdapter(gpu.adapter)}`);
  }
  try {
    const d = await chooseDevice(auto.probe, { key: auto.key });
    return pick(d.device, d.reason);
  } catch (e) {
    throw new Error(
      `--backend auto: ${(e as Error).message} (--backend cpu or --backend webgpu skips the measurement)`,
      { cause: e },
    );
  }
}

/** Release the GPU device at the end of a program: Dawn keeps the process alive (and a core busy) otherwise. */
export function teardown(device: DeviceName): void {
  if (device === 'webgpu') getBackend('webgpu').destroy();
}
