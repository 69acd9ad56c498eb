import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeviceName,
  type DeviceProbeRun,
  type OpenedDevice,
  WebrnnError,
  chooseDevice,
  defaultGenerator,
  forgetDeviceChoices,
  manualSeed,
  matmul,
  memory,
  randn,
  sum,
  tanh,
  tensor,
} from '@webrnn/core';

/**
 * The decision logic of chooseDevice with injected devices and an injected clock: each device's step "costs" a
 * known number of milliseconds of the fake clock, so what is chosen, how many steps are timed and the reason are
 * exact. The probes really compute on the CPU (whatever device name they are given), so the random generator and
 * leak checks are real. chooseDeviceWebgpu.test.ts measures the real CPU and WebGPU devices.
 */

afterEach(() => forgetDeviceChoices());

interface Fake {
  readonly open: (d: DeviceName) => Promise<OpenedDevice>;
  readonly now: () => number;
  readonly released: DeviceName[];
  /** Advance the fake clock by the step's cost on `device`. */
  tick(device: DeviceName): void;
  steps: Record<DeviceName, number>;
}

function fakeDevices(
  cost: Record<DeviceName, number>,
  missing: Partial<Record<DeviceName, string>> = {},
): Fake {
  let t = 0;
  const released: DeviceName[] = [];
  const steps = { cpu: 0, webgpu: 0 };
  return {
    open: async (d) =>
      missing[d]
        ? { unavailable: missing[d]! }
        : { label: d === 'webgpu' ? 'fakepipe' : '', release: () => released.push(d) },
    now: () => t,
    released,
    steps,
    tick(d) {
      steps[d]++;
      t += cost[d];
    },
  };
}

/** A real little model on the CPU: a random weight (drawn from the default generator), tanh(x W) summed. */
function modelProbe(fake: Fake) {
  const made: DeviceName[] = [];
  const probe = (device: DeviceName): DeviceProbeRun => {
    made.push(device);
    const w = randn([4, 3], { requiresGrad: true });
    const x = randn([2, 4]);
    return {
      step: () => {
        fake.tick(device);
        const loss = sum(tanh(matmul(x, w)));
        loss.backward();
        return loss;
      },
      dispose: () => {
        w.dispose();
        x.dispose();
      },
    };
  };
  return { probe, made };
}

const cost = fc.integer({ min: 1, max: 200 });

describe('chooseDevice decides by the measured median step', () => {
  it('the faster device wins (the first listed on a tie); the slower one is released; the reason has both figures', async () => {
    await fc.assert(
      fc.asyncProperty(
        cost,
        cost,
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 4 }),
        async (c, g, warmup, steps) => {
          forgetDeviceChoices();
          const fake = fakeDevices({ cpu: c, webgpu: g });
          const { probe } = modelProbe(fake);
          const d = await chooseDevice(probe, {
            key: 'k',
            warmup,
            steps,
            budgetMs: 1e9,
            now: fake.now,
            open: fake.open,
          });
          const winner = g < c ? 'webgpu' : 'cpu';
          expect(d.device).toBe(winner);
          expect(d.cached).toBe(false);
          expect(fake.released).toEqual([winner === 'cpu' ? 'webgpu' : 'cpu']);
          expect(d.timings.map((t) => [t.device, t.msPerStep, t.steps])).toEqual([
            ['cpu', c, steps],
            ['webgpu', g, steps],
          ]);
          expect(fake.steps).toEqual({ cpu: warmup + steps, webgpu: warmup + steps });
          const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(0) : ms.toPrecision(2));
          expect(d.reason).toBe(`measured: cpu ${fmt(c)} ms/step, webgpu ${fmt(g)} ms/step on fakepipe`);
        },
      ),
      {
        numRuns: 40,
        examples: [
          [5, 5, 1, 1],
          [7, 7, 0, 3],
        ],
      },
    );
  });

  it('timing stops at the step that passes the budget (at least one timed step); warm-up steps are not timed', async () => {
    await fc.assert(
      fc.asyncProperty(cost, cost, fc.integer({ min: 0, max: 500 }), async (c, g, budgetMs) => {
        forgetDeviceChoices();
        const fake = fakeDevices({ cpu: c, webgpu: g });
        const d = await chooseDevice(modelProbe(fake).probe, {
          key: 'k',
          budgetMs,
          steps: 6,
          now: fake.now,
          open: fake.open,
        });
        const expected = (ms: number) => Math.min(6, Math.max(1, Math.ceil(budgetMs / ms)));
        expect(d.timings.map((t) => t.steps)).toEqual([expected(c), expected(g)]);
        expect(fake.steps).toEqual({ cpu: 1 + expected(c), webgpu: 1 + expected(g) });
      }),
      { numRuns: 40 },
    );
  });

  it('the median resists one slow step (a busy machine)', async () => {
    let t = 0;
    let n = 0;
    const open = async (): Promise<OpenedDevice> => ({ label: '', release: () => {} });
    const costs: Record<DeviceName, number[]> = { cpu: [5, 5, 100, 5, 5], webgpu: [9, 9, 9, 9, 9] };
    const probe = (device: DeviceName): DeviceProbeRun => ({
      step: () => {
        t += costs[device][n++ % 5]!;
        return tensor([0]);
      },
      dispose: () => {},
    });
    const d = await chooseDevice(probe, { key: 'm', warmup: 0, budgetMs: 1e9, now: () => t, open });
    expect(d.timings.map((x) => x.msPerStep)).toEqual([5, 9]);
    expect(d.device).toBe('cpu');
  });
});

describe('chooseDevice caches per key and leaves the run untouched', () => {
  it('a key is measured once per process; another key or candidate list measures again', async () => {
    const fake = fakeDevices({ cpu: 3, webgpu: 2 });
    const { probe, made } = modelProbe(fake);
    const opts = { key: 'lstm h=8', now: fake.now, open: fake.open };
    const first = await chooseDevice(probe, opts);
    const again = await chooseDevice(probe, opts);
    expect(made).toEqual(['cpu', 'webgpu']);
    expect(again).toEqual({ ...first, cached: true });
    await chooseDevice(probe, { ...opts, key: 'lstm h=9' });
    expect(made).toHaveLength(4);
    await chooseDevice(probe, { ...opts, devices: ['webgpu', 'cpu'] });
    expect(made).toHaveLength(6);
  });

  it("the probe's random draws do not move the default generator; memory is flat after it", async () => {
    manualSeed(7);
    const expected = defaultGenerator.getState();
    const m0 = memory();
    const fake = fakeDevices({ cpu: 1, webgpu: 2 });
    await chooseDevice(modelProbe(fake).probe, { key: 'rng', now: fake.now, open: fake.open });
    expect(defaultGenerator.getState()).toEqual(expected);
    const m1 = memory();
    expect([m1.tensors, m1.storages, m1.bytes]).toEqual([m0.tensors, m0.storages, m0.bytes]);
  });

  it('with one device available the probe does not run and the reason says why the other is missing', async () => {
    const fake = fakeDevices({ cpu: 1, webgpu: 1 }, { webgpu: 'no WebGPU adapter (test)' });
    const { probe, made } = modelProbe(fake);
    const d = await chooseDevice(probe, { key: 'one', now: fake.now, open: fake.open });
    expect(d).toMatchObject({
      device: 'cpu',
      timings: [],
      reason: 'the only device available (webgpu: no WebGPU adapter (test))',
    });
    expect(made).toEqual([]);
  });
});

describe('chooseDevice refuses bad probes and options with a WebrnnError', () => {
  const fake = () => fakeDevices({ cpu: 1, webgpu: 1 });

  it('a probe that throws is named with the device and the phase; its dispose runs, devices are released, the generator restored', async () => {
    for (const [phase, failAt] of [
      ['setup', -1],
      ['warm-up step 1', 0],
      ['timed step 2', 2],
    ] as const) {
      forgetDeviceChoices();
      const f = fake();
      const rng = defaultGenerator.getState();
      let disposed = 0;
      let calls = 0;
      const probe = (device: DeviceName): DeviceProbeRun => {
        randn([3]).dispose(); // a draw that must not count
        if (device === 'webgpu' && failAt < 0) throw new Error('boom');
        const w = tensor([1, 2]);
        return {
          step: () => {
            if (device === 'webgpu' && calls++ === failAt) throw new Error('boom');
            return sum(w);
          },
          dispose: () => {
            disposed++;
            w.dispose();
          },
        };
      };
      const m0 = memory().tensors;
      const err = await chooseDevice(probe, { key: 'fail', now: f.now, open: f.open }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WebrnnError);
      expect((err as Error).message).toBe(`chooseDevice: the probe failed on webgpu (${phase}): boom`);
      expect(disposed).toBe(failAt < 0 ? 1 : 2);
      expect(f.released.sort()).toEqual(['cpu', 'webgpu']);
      expect(defaultGenerator.getState()).toEqual(rng);
      expect(memory().tensors).toBe(m0);
    }
  });

  it('a failed measurement is not cached: the next call measures again', async () => {
    const f = fake();
    let fail = true;
    const probe = (): DeviceProbeRun => {
      if (fail) throw new Error('first time');
      return { step: () => tensor([1]), dispose: () => {} };
    };
    await expect(chooseDevice(probe, { key: 'retry', now: f.now, open: f.open })).rejects.toThrow(
      'first time',
    );
    fail = false;
    await expect(chooseDevice(probe, { key: 'retry', now: f.now, open: f.open })).resolves.toMatchObject({
      cached: false,
    });
  });

  it('a probe that leaves tensors behind is refused, naming the device and the count', async () => {
    const f = fake();
    const leaked: { dispose(): void }[] = [];
    const probe = (device: DeviceName): DeviceProbeRun => {
      const w = tensor([1, 2]);
      return {
        step: () => sum(w),
        dispose: () => (device === 'cpu' ? w.dispose() : leaked.push(w)),
      };
    };
    await expect(chooseDevice(probe, { key: 'leak', now: f.now, open: f.open })).rejects.toThrow(
      /^chooseDevice: the probe left 1 tensors and 1 storages \(8 bytes\) behind on webgpu; expected its dispose\(\)/,
    );
    for (const t of leaked) t.dispose();
  });

  it('a step that returns no tensor, a probe that returns no run, and bad options', async () => {
    const f = fake();
    const o = { now: f.now, open: f.open };
    const noTensor = () => ({ step: () => 3 as never, dispose: () => {} });
    await expect(chooseDevice(noTensor, { ...o, key: 'a' })).rejects.toThrow(
      'chooseDevice: the probe failed on cpu (warm-up step 1): step() must return a tensor (such as the loss) to read, got number',
    );
    await expect(chooseDevice(() => ({}) as never, { ...o, key: 'b' })).rejects.toThrow(
      'chooseDevice: the probe failed on cpu (setup): the probe must return { step(): Tensor, dispose(): void }, got an object with keys []',
    );
    const ok = () => ({ step: () => tensor([1]), dispose: () => {} });
    await expect(chooseDevice(ok, { ...o, key: '' })).rejects.toThrow(
      'chooseDevice: expected options.key, a non-empty string',
    );
    await expect(chooseDevice(ok, { ...o, key: 'c', devices: ['cpu', 'cpu'] })).rejects.toThrow(
      "chooseDevice: expected devices among 'cpu' and 'webgpu', each once, got [cpu, cpu]",
    );
    await expect(chooseDevice(ok, { ...o, key: 'c', steps: 0 })).rejects.toThrow(
      'chooseDevice: expected steps an integer >= 1, got 0',
    );
    await expect(chooseDevice(ok, { ...o, key: 'c', budgetMs: Number.NaN })).rejects.toThrow(
      'chooseDevice: expected budgetMs >= 0, got NaN',
    );
    await expect(chooseDevice(3 as never, { key: 'c' })).rejects.toThrow(
      'chooseDevice: expected a probe function',
    );
    const none = { now: f.now, open: async () => ({ unavailable: 'gone' }) };
    await expect(chooseDevice(ok, { ...none, key: 'd' })).rejects.toThrow(
      'chooseDevice: no device available (cpu: gone; webgpu: gone)',
    );
  });
});
