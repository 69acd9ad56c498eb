import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeviceName,
  type DeviceProbeRun,
  type OpenedDevice,
  WebrnnError,
  chooseDevice,
  forgetDeviceChoices,
  sum,
  tensor,
} from '@webrnn/core';

/**
 * chooseDevice's edges beyond chooseDevice.test.ts: the median of an odd and an even number of steps, the phase
 * named when the first timed step or dispose fails, leaks counted while other tensors are alive (and a leaked
 * view that holds no storage of its own), what a bad probe or bad options are reported as, the real clock, and
 * the decision's `cached` flag when only one device is available.
 */

afterEach(() => forgetDeviceChoices());

const open = async (): Promise<OpenedDevice> => ({ label: '', release: () => {} });

/** A probe whose steps cost the given milliseconds of a fake clock, in turn, per device. */
function timedProbe(costs: Record<DeviceName, number[]>) {
  let t = 0;
  const n = { cpu: 0, webgpu: 0 };
  const probe = (device: DeviceName): DeviceProbeRun => ({
    step: () => {
      const c = costs[device];
      t += c[n[device]++ % c.length]!;
      return tensor([0]);
    },
    dispose: () => {},
  });
  return { probe, now: () => t };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('chooseDevice: the median and the phases', () => {
  it('the median of an odd count is the middle step, of an even count the mean of the two middle ones', async () => {
    for (const [cpu, webgpu, want] of [
      [[1, 8, 3], [2.5], [3, 2.5]],
      [[1, 8, 3, 2], [2.25], [2.5, 2.25]],
    ] as const) {
      forgetDeviceChoices();
      const { probe, now } = timedProbe({ cpu: [...cpu], webgpu: [...webgpu] });
      const d = await chooseDevice(probe, {
        key: 'median',
        warmup: 0,
        steps: cpu.length,
        budgetMs: 1e9,
        now,
        open,
      });
      expect(d.timings.map((t) => t.msPerStep)).toEqual(want);
      expect(d.device).toBe('webgpu');
    }
  });

  it('names the first timed step after the warm-up, and dispose, when the probe fails there', async () => {
    for (const [phase, failStep, failDispose] of [
      ['timed step 1', 1, false],
      ['dispose', -1, true],
    ] as const) {
      forgetDeviceChoices();
      let calls = 0;
      const probe = (device: DeviceName): DeviceProbeRun => ({
        step: () => {
          if (device === 'cpu' && calls++ === failStep) throw new Error('boom');
          return tensor([1]);
        },
        dispose: () => {
          if (device === 'cpu' && failDispose) throw new Error('boom');
        },
      });
      const err = await failure(chooseDevice(probe, { key: 'phase', warmup: 1, now: () => 0, open }));
      expect(err).toBeInstanceOf(WebrnnError);
      expect((err as Error).message).toBe(`chooseDevice: the probe failed on cpu (${phase}): boom`);
    }
  });

  it('counts only what the probe left, with other tensors alive; a leaked view without storage is refused too', async () => {
    const alive = [tensor([1, 2, 3]), tensor([4, 5])]; // 2 tensors, 2 storages, 20 bytes outside the probe
    const leaked: { dispose(): void }[] = [];
    const leakTensor = (device: DeviceName): DeviceProbeRun => {
      const w = tensor([1, 2]);
      return { step: () => sum(w), dispose: () => (device === 'cpu' ? w.dispose() : leaked.push(w)) };
    };
    expect(
      ((await failure(chooseDevice(leakTensor, { key: 'leak', now: () => 0, open }))) as Error).message,
    ).toMatch(/^chooseDevice: the probe left 1 tensors and 1 storages \(8 bytes\) behind on webgpu;/);
    // A view of a tensor that is alive outside the probe: a tensor more, no storage more.
    const leakView = (device: DeviceName): DeviceProbeRun => {
      const v = alive[0]!.reshape([3, 1]);
      return { step: () => sum(v), dispose: () => (device === 'cpu' ? v.dispose() : leaked.push(v)) };
    };
    expect(
      ((await failure(chooseDevice(leakView, { key: 'view', now: () => 0, open }))) as Error).message,
    ).toMatch(/^chooseDevice: the probe left 1 tensors and 0 storages \(0 bytes\) behind on webgpu;/);
    for (const t of [...leaked, ...alive]) t.dispose();
  });

  it('times with the real clock when none is given', async () => {
    const d = await chooseDevice(() => ({ step: () => tensor([1]), dispose: () => {} }), {
      key: 'clock',
      steps: 2,
      open,
    });
    for (const t of d.timings) {
      expect(Number.isFinite(t.msPerStep)).toBe(true);
      expect(t.msPerStep).toBeGreaterThanOrEqual(0);
    }
  });

  it('a decision from the only available device is not cached the first time, and is the second', async () => {
    const one = async (d: DeviceName): Promise<OpenedDevice> =>
      d === 'cpu' ? { label: '', release: () => {} } : { unavailable: 'none here' };
    const probe = () => ({ step: () => tensor([1]), dispose: () => {} });
    expect((await chooseDevice(probe, { key: 'single', open: one })).cached).toBe(false);
    expect((await chooseDevice(probe, { key: 'single', open: one })).cached).toBe(true);
  });
});

describe('chooseDevice: what a bad probe or bad options are told', () => {
  const ok = () => ({ step: () => tensor([1]), dispose: () => {} });

  it('a probe that returns no run, half a run, or a step that returns no tensor', async () => {
    for (const [made, got] of [
      [undefined, 'undefined'],
      [null, 'null'],
      [5, 'number'],
      [{ step: () => tensor([1]) }, 'an object with keys [step]'],
      [{ dispose: () => {} }, 'an object with keys [dispose]'],
    ] as const) {
      const err = await failure(chooseDevice(() => made as never, { key: `run ${got}`, open }));
      expect(err).toBeInstanceOf(WebrnnError);
      expect((err as Error).message).toBe(
        `chooseDevice: the probe failed on cpu (setup): the probe must return { step(): Tensor, dispose(): void }, got ${got}`,
      );
    }
    for (const [out, got] of [
      [null, 'null'],
      ['loss', 'string'],
      [{ a: 1, b: 2 }, 'an object with keys [a, b]'],
    ] as const) {
      const probe = () => ({ step: () => out as never, dispose: () => {} });
      const err = await failure(chooseDevice(probe, { key: `step ${got}`, open }));
      expect((err as Error).message).toBe(
        `chooseDevice: the probe failed on cpu (warm-up step 1): step() must return a tensor (such as the loss) to read, got ${got}`,
      );
    }
  });

  it('a key that is not a string, no options, and device lists that are empty or name another device', async () => {
    for (const [options, got] of [
      [{ key: 3 }, '3'],
      [undefined, 'undefined'],
    ] as const) {
      const err = await failure(chooseDevice(ok, options as never));
      expect(err).toBeInstanceOf(WebrnnError);
      expect((err as Error).message).toBe(
        `chooseDevice: expected options.key, a non-empty string naming the shape class, got ${got}`,
      );
    }
    for (const [devices, got] of [
      [[], '[]'],
      [['tpu'], '[tpu]'],
      [['cpu', 'tpu'], '[cpu, tpu]'],
    ] as const) {
      const err = await failure(chooseDevice(ok, { key: 'd', devices: devices as never, open }));
      expect(err).toBeInstanceOf(WebrnnError);
      expect((err as Error).message).toBe(
        `chooseDevice: expected devices among 'cpu' and 'webgpu', each once, got ${got}`,
      );
    }
  });
});
