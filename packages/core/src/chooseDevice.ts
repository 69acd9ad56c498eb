import type { DeviceName } from './backends/backend.js';
import { getDefaultDevice, hasBackend, setDefaultDevice } from './backends/registry.js';
import { initWebGPU, lastWebGPUError } from './backends/webgpu/device.js';
import { WebrnnError } from './errors.js';
import { memory } from './memory.js';
import { defaultGenerator } from './random.js';
import { tidy } from './scopes.js';
import { Tensor } from './tensor.js';

/**
 * Choosing the faster device for one program by measuring it: `chooseDevice(probe, { key })` runs a representative
 * step of the program (one forward and backward of its model on a batch of its sizes) on each available device,
 * after a warm-up, and returns the device with the shortest median step. Which device wins depends on the model's
 * sizes far more than on the adapter's name (a software WebGPU adapter wins large matmuls and loses batch-1 LSTMs),
 * so the decision is cached per shape-class key for the process, not per device.
 */

/** What a probe sets up on one device: its step, timed, and how to free what it made. */
export interface DeviceProbeRun {
  /**
   * One representative step (synchronous: it runs in a `tidy` scope). It returns a tensor computed last, such as
   * the loss: reading it waits for the device to finish the step, and it is then disposed.
   */
  step(): Tensor;
  /** Frees what the setup made (the model's clone, its inputs); after it nothing of the probe may remain. */
  dispose(): void;
}

/**
 * Sets up the measurement on `device`: builds the program's model (a clone: never the one the run trains) and a
 * batch there. Random draws made here do not disturb the run: the default generator is restored afterwards.
 */
export type DeviceProbe = (device: DeviceName) => DeviceProbeRun | Promise<DeviceProbeRun>;

/** A device ready to measure (label: the adapter's name, shown in the reason), or why it is not available. */
export type OpenedDevice = { readonly label: string; release(): void } | { readonly unavailable: string };

export interface ChooseDeviceOptions {
  /** The shape class (e.g. `cos hidden=32 batch=32 rho=10`): one measurement per key and process. */
  readonly key: string;
  /** The candidates, in order of preference on a tie (default cpu, webgpu). */
  readonly devices?: readonly DeviceName[];
  /** Untimed steps first on each device (kernel compilation, weight packing); default 1. */
  readonly warmup?: number;
  /** Timed steps at most on each device; default 5. */
  readonly steps?: number;
  /** Timing on a device stops after the step that passes this many milliseconds (at least one step); default 500. */
  readonly budgetMs?: number;
  /** The clock in milliseconds (default `performance.now`); tests inject one. */
  readonly now?: () => number;
  /**
   * Makes a device available (default: the CPU always; WebGPU through `initWebGPU()`, released again when another
   * device wins unless it was initialised before). Tests inject a fake.
   */
  readonly open?: (device: DeviceName) => Promise<OpenedDevice>;
}

export interface DeviceTiming {
  readonly device: DeviceName;
  /** The adapter's name ('' on the CPU). */
  readonly label: string;
  /** The median of the timed steps, in milliseconds. */
  readonly msPerStep: number;
  readonly steps: number;
}

export interface DeviceDecision {
  readonly device: DeviceName;
  /** E.g. `measured: cpu 3.1 ms/step, webgpu 28 ms/step on llvmpipe`. */
  readonly reason: string;
  /** One entry per device measured, in the order of `devices`. */
  readonly timings: readonly DeviceTiming[];
  /** The candidates that could not be used, and why. */
  readonly unavailable: readonly { readonly device: DeviceName; readonly reason: string }[];
  /** True when this key was measured before in this process and the probe did not run. */
  readonly cached: boolean;
}

const OP = 'chooseDevice';
const decisions = new Map<string, Promise<DeviceDecision>>();

/** Forget the cached decisions (after the hardware or the program's sizes changed meaning of a key). */
export function forgetDeviceChoices(): void {
  decisions.clear();
}

/** The device on which `probe`'s step runs faster, measured once per `options.key` and process. */
export async function chooseDevice(
  probe: DeviceProbe,
  options: ChooseDeviceOptions,
): Promise<DeviceDecision> {
  if (typeof probe !== 'function') {
    throw new WebrnnError(OP, `expected a probe function (device) => { step, dispose }, got ${typeof probe}`);
  }
  if (typeof options?.key !== 'string' || options.key === '') {
    throw new WebrnnError(
      OP,
      `expected options.key, a non-empty string naming the shape class, got ${String(options?.key)}`,
    );
  }
  const devices = options.devices ?? (['cpu', 'webgpu'] as const);
  if (
    devices.length === 0 ||
    devices.some((d) => d !== 'cpu' && d !== 'webgpu') ||
    new Set(devices).size !== devices.length
  ) {
    throw new WebrnnError(
      OP,
      `expected devices among 'cpu' and 'webgpu', each once, got [${devices.join(', ')}]`,
    );
  }
  const counts = {
    warmup: options.warmup ?? 1,
    steps: options.steps ?? 5,
    budgetMs: options.budgetMs ?? 500,
  };
  for (const [name, v, least] of [
    ['warmup', counts.warmup, 0],
    ['steps', counts.steps, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < least)
      throw new WebrnnError(OP, `expected ${name} an integer >= ${least}, got ${v}`);
  }
  if (!(counts.budgetMs >= 0)) throw new WebrnnError(OP, `expected budgetMs >= 0, got ${counts.budgetMs}`);
  const cacheKey = `${options.key}\u0000${devices.join(',')}`;
  const known = decisions.get(cacheKey);
  if (known) return { ...(await known), cached: true };
  const decision = measureAll(probe, devices, {
    ...counts,
    now: options.now ?? (() => performance.now()),
    open: options.open ?? openDevice,
  });
  decisions.set(cacheKey, decision);
  // A failed measurement is not remembered: the next call measures again (and reports its own failure).
  decision.catch(() => decisions.delete(cacheKey));
  return decision;
}

interface Settings {
  readonly warmup: number;
  readonly steps: number;
  readonly budgetMs: number;
  readonly now: () => number;
  readonly open: (device: DeviceName) => Promise<OpenedDevice>;
}

async function measureAll(
  probe: DeviceProbe,
  devices: readonly DeviceName[],
  s: Settings,
): Promise<DeviceDecision> {
  const opened: { device: DeviceName; label: string; release(): void }[] = [];
  const unavailable: { device: DeviceName; reason: string }[] = [];
  for (const device of devices) {
    const o = await s.open(device);
    if ('unavailable' in o) unavailable.push({ device, reason: o.unavailable });
    else opened.push({ device, ...o, release: () => o.release() });
  }
  const skipped = unavailable.map((u) => `${u.device}: ${u.reason}`).join('; ');
  if (opened.length <= 1) {
    // Nothing to compare: the probe does not run.
    const only = opened[0];
    if (!only) throw new WebrnnError(OP, `no device available (${skipped})`);
    return {
      device: only.device,
      reason: `the only device available (${skipped})`,
      timings: [],
      unavailable,
      cached: false,
    };
  }
  const timings: DeviceTiming[] = [];
  try {
    for (const { device, label } of opened)
      timings.push({ device, label, ...(await measureOne(probe, device, s)) });
  } catch (e) {
    for (const o of opened) o.release();
    throw e;
  }
  // The shortest median wins; on a tie the device listed first.
  const best = timings.reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a));
  for (const o of opened) if (o.device !== best.device) o.release();
  const figures = timings.map(
    (t) => `${t.device} ${fmtMs(t.msPerStep)} ms/step${t.label ? ` on ${t.label}` : ''}`,
  );
  const reason = `measured: ${figures.join(', ')}${skipped ? `; ${skipped}` : ''}`;
  return { device: best.device, reason, timings, unavailable, cached: false };
}

/** Milliseconds with two significant digits at least: 0.41, 3.1, 28, 1250. */
function fmtMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(0) : ms.toPrecision(2);
}

/**
 * Set up, warm up and time the probe on one device. The default generator and device are restored and the probe's
 * dispose() runs whatever happens; what it leaves behind (tensors, buffers) is an error that names the device.
 */
async function measureOne(
  probe: DeviceProbe,
  device: DeviceName,
  s: Settings,
): Promise<{ msPerStep: number; steps: number }> {
  const rng = defaultGenerator.getState();
  const defaultDevice = getDefaultDevice();
  const before = memory();
  let phase = 'setup';
  let run: DeviceProbeRun | undefined;
  const times: number[] = [];
  try {
    run = await probe(device);
    if (typeof run?.step !== 'function' || typeof run.dispose !== 'function') {
      throw new Error(`the probe must return { step(): Tensor, dispose(): void }, got ${describe(run)}`);
    }
    for (let i = 0; i < s.warmup + s.steps; i++) {
      phase = i < s.warmup ? `warm-up step ${i + 1}` : `timed step ${i - s.warmup + 1}`;
      const start = s.now();
      await oneStep(run);
      if (i < s.warmup) continue;
      times.push(s.now() - start);
      if (times.reduce((a, b) => a + b, 0) >= s.budgetMs) break;
    }
    phase = 'dispose';
    const r = run;
    run = undefined;
    r.dispose();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const failure = new WebrnnError(OP, `the probe failed on ${device} (${phase}): ${message}`);
    (failure as { cause?: unknown }).cause = e;
    throw failure;
  } finally {
    try {
      run?.dispose();
    } catch {
      // The probe's own failure is the one reported.
    }
    defaultGenerator.setState(rng);
    if (hasBackend(defaultDevice)) setDefaultDevice(defaultDevice);
  }
  const after = memory();
  const left = after.tensors - before.tensors;
  if (left !== 0 || after.storages !== before.storages) {
    throw new WebrnnError(
      OP,
      `the probe left ${left} tensors and ${after.storages - before.storages} storages (${after.bytes - before.bytes} bytes) ` +
        `behind on ${device}; expected its dispose() to free everything its setup and steps made`,
    );
  }
  return { msPerStep: median(times), steps: times.length };
}

/** One step in its own tidy scope; reading its result waits for the device to finish it. */
async function oneStep(run: DeviceProbeRun): Promise<void> {
  const out = tidy(() => run.step());
  if (!(out instanceof Tensor)) {
    throw new Error(`step() must return a tensor (such as the loss) to read, got ${describe(out)}`);
  }
  try {
    await out.data();
  } finally {
    out.dispose();
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? `an object with keys [${Object.keys(v).join(', ')}]` : typeof v;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The default devices: the CPU is always there; WebGPU is initialised, and released unless it was already up. */
async function openDevice(device: DeviceName): Promise<OpenedDevice> {
  if (device === 'cpu') return { label: '', release: () => {} };
  const wasUp = hasBackend('webgpu');
  const gpu = await initWebGPU();
  if (!gpu) return { unavailable: lastWebGPUError() || 'no WebGPU adapter' };
  return {
    label: adapterLabel(gpu.adapter.description, gpu.adapter.vendor),
    release: () => (wasUp ? undefined : gpu.destroy()),
  };
}

/** The adapter's short name: `llvmpipe` of `llvmpipe (LLVM 15.0.6, 256 bits)`. */
function adapterLabel(description: string, vendor: string): string {
  return description.split(/[:(]/)[0]!.trim() || vendor || 'unknown adapter';
}
