import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeviceName,
  type DeviceProbeRun,
  chooseDevice,
  defaultGenerator,
  forgetDeviceChoices,
  getBackend,
  getDefaultDevice,
  hasBackend,
  manualSeed,
  matmul,
  memory,
  randn,
  setDefaultDevice,
  sum,
  tanh,
} from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * chooseDevice on the real devices: a two-layer tanh net's forward and backward timed on the CPU and on the WebGPU
 * adapter (lavapipe here). Which one wins depends on the machine; what must hold everywhere: both are measured, the
 * faster median is chosen, the probe's buffers are gone on both devices, and the generator is where it was.
 */
const gpu = await webgpuForFile('chooseDeviceWebgpu');

afterEach(() => forgetDeviceChoices());

function twoLayerProbe(device: DeviceName): DeviceProbeRun {
  const w1 = randn([32, 64], { device, requiresGrad: true, std: 0.1 });
  const w2 = randn([64, 8], { device, requiresGrad: true, std: 0.1 });
  const x = randn([16, 32], { device });
  return {
    step: () => {
      w1.zeroGrad();
      w2.zeroGrad();
      const loss = sum(tanh(matmul(tanh(matmul(x, w1)), w2)));
      loss.backward();
      return loss;
    },
    dispose: () => {
      for (const t of [w1, w2, x]) t.dispose();
    },
  };
}

describe('chooseDevice on cpu and webgpu', () => {
  it.skipIf(!gpu)(
    'measures both, picks the faster median, frees everything on both devices and restores the generator',
    async () => {
      manualSeed(3);
      const rng = defaultGenerator.getState();
      const m0 = memory();
      const d = await chooseDevice(twoLayerProbe, { key: 'two-layer 32-64-8 batch 16', steps: 3 });
      expect(d.timings.map((t) => t.device)).toEqual(['cpu', 'webgpu']);
      for (const t of d.timings) {
        expect(t.msPerStep).toBeGreaterThan(0);
        expect(t.steps).toBeGreaterThanOrEqual(1);
      }
      const [cpu, webgpu] = d.timings;
      expect(d.device).toBe(webgpu!.msPerStep < cpu!.msPerStep ? 'webgpu' : 'cpu');
      expect(d.reason).toMatch(/^measured: cpu [\d.]+ ms\/step, webgpu [\d.]+ ms\/step on \S/);
      expect(defaultGenerator.getState()).toEqual(rng);
      // The test file's device was up before: chooseDevice must not have destroyed it.
      expect(hasBackend('webgpu')).toBe(true);
      const m1 = memory();
      expect([m1.tensors, m1.storages, m1.bytes]).toEqual([m0.tensors, m0.storages, m0.bytes]);
      expect(m1.webgpu!.liveBuffers).toBe(m0.webgpu!.liveBuffers);
      expect(m1.cpu.liveBytes).toBe(m0.cpu.liveBytes);
      expect(getBackend('webgpu')).toBe(gpu);
    },
    120_000,
  );

  it.skipIf(!gpu)('a probe that switches the default device leaves it as it was', async () => {
    const before = getDefaultDevice();
    const switching = (device: DeviceName): DeviceProbeRun => {
      setDefaultDevice(device); // a careless probe: its tensors then go there by default
      return twoLayerProbe(device);
    };
    await chooseDevice(switching, { key: 'switching default', steps: 1 });
    expect(getDefaultDevice()).toBe(before);
  });
});
