import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * chooseDevice's default `open` (no `open` option) with WebGPU's initialisation replaced by a fake: the adapter's
 * short name in the timings and the reason, the WebGPU device destroyed when the CPU wins (it was not up before),
 * and the reason given when there is no adapter. The probe computes on the CPU whatever device it is given, and
 * a fake clock decides the winner. chooseDeviceWebgpu.test.ts runs the real adapter.
 */
const fake = vi.hoisted(() => ({
  gpu: null as null | { adapter: { description: string; vendor: string }; destroy: () => void },
  error: '',
}));

vi.mock('../src/backends/webgpu/device.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/backends/webgpu/device.js')>()),
  initWebGPU: async () => fake.gpu,
  lastWebGPUError: () => fake.error,
}));

const { chooseDevice, forgetDeviceChoices, hasBackend, tensor } = await import('../src/index.js');
type DeviceName = import('../src/index.js').DeviceName;

beforeEach(() => {
  fake.gpu = null;
  fake.error = '';
});
afterEach(() => forgetDeviceChoices());

/** Each step costs `cost[device]` ms of a fake clock. */
function costed(cost: Record<DeviceName, number>) {
  let t = 0;
  return {
    probe: (device: DeviceName) => ({
      step: () => {
        t += cost[device];
        return tensor([1]);
      },
      dispose: () => {},
    }),
    now: () => t,
  };
}

describe('chooseDevice with its default devices (WebGPU faked)', () => {
  it("names the adapter by the short name of its description, else its vendor, else 'unknown adapter'", async () => {
    expect(hasBackend('webgpu')).toBe(false); // so a losing WebGPU device is destroyed
    for (const [description, vendor, label] of [
      ['llvmpipe (LLVM 15.0.6, 256 bits)', 'mesa', 'llvmpipe'],
      ['NVIDIA H200: 141 GB', 'nvidia', 'NVIDIA H200'],
      ['Apple M2', 'apple', 'Apple M2'],
      ['', 'intel', 'intel'],
      ['  (no name)', '', 'unknown adapter'],
    ] as const) {
      forgetDeviceChoices();
      const destroy = vi.fn();
      fake.gpu = { adapter: { description, vendor }, destroy };
      const { probe, now } = costed({ cpu: 1, webgpu: 2 });
      const d = await chooseDevice(probe, { key: `label ${label}`, now });
      expect(d.timings.map((t) => [t.device, t.label])).toEqual([
        ['cpu', ''],
        ['webgpu', label],
      ]);
      expect(d.reason).toBe(`measured: cpu 1.0 ms/step, webgpu 2.0 ms/step on ${label}`);
      expect(d.device).toBe('cpu');
      expect(destroy).toHaveBeenCalledTimes(1); // WebGPU lost and was not up before: released
    }
  });

  it('keeps the WebGPU device when it wins', async () => {
    const destroy = vi.fn();
    fake.gpu = { adapter: { description: 'fakepipe', vendor: '' }, destroy };
    const { probe, now } = costed({ cpu: 3, webgpu: 2 });
    const d = await chooseDevice(probe, { key: 'gpu wins', now });
    expect(d.device).toBe('webgpu');
    expect(destroy).not.toHaveBeenCalled();
  });

  it("without an adapter: the CPU, and WebGPU's error as the reason (or 'no WebGPU adapter')", async () => {
    for (const [error, reason] of [
      ['', 'no WebGPU adapter'],
      ['requestAdapter() returned null', 'requestAdapter() returned null'],
    ] as const) {
      forgetDeviceChoices();
      fake.error = error;
      const { probe, now } = costed({ cpu: 1, webgpu: 1 });
      const d = await chooseDevice(probe, { key: 'no adapter', now });
      expect(d).toMatchObject({
        device: 'cpu',
        timings: [],
        unavailable: [{ device: 'webgpu', reason }],
        reason: `the only device available (webgpu: ${reason})`,
      });
    }
  });
});
