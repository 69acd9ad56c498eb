import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, mul, nn, optim, randn, sum, tidy } from '@webrnn/rnn';
import {
  loadModule,
  loadTensors,
  moduleToSafetensors,
  saveModule,
  saveTensors,
  stateDict,
} from '../src/io/index.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * A save is a snapshot at its call: training steps run before the save is awaited (as a periodic checkpoint
 * does) never reach the file, on the CPU and on WebGPU.
 */

const gpu = await webgpuForFile('io snapshot');
const dir = await mkdtemp(join(tmpdir(), 'webrnn-snap-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

type Device = 'cpu' | 'webgpu';

function build(seed: number, device: Device) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2)).to(device);
}

function step(m: nn.Module, opt: optim.Optimizer<object, object>, x: Tensor) {
  opt.zeroGrad();
  tidy(() => {
    const y = m.forward(x) as Tensor;
    sum(mul(y, y)).backward();
  });
  opt.step();
}

async function weights(m: nn.Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, p] of Object.entries(stateDict(m))) out[name] = Array.from(await p.data());
  return out;
}

async function fileWeights(path: string): Promise<Record<string, number[]>> {
  const ts = await loadTensors(path);
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(ts)) {
    if (!name.startsWith('optim.')) out[name] = Array.from(t.dataSync());
    t.dispose();
  }
  return out;
}

describe('a save of bad values', () => {
  it('is refused at the call, naming the entry, and writes nothing', async () => {
    const path = join(dir, 'bad.safetensors');
    const bad = { a: randn([2]), b: [1, 2] } as unknown as Record<string, Tensor>;
    await expect(saveTensors(path, bad)).rejects.toThrow("saveTensors: 'b' must be a Tensor, got object");
    const gone = randn([2]);
    gone.dispose();
    await expect(saveTensors(path, { gone })).rejects.toThrow('saveTensors: tensor #');
    await expect(loadTensors(path)).rejects.toThrow('ENOENT');
  });
});

describe.each(['cpu', 'webgpu'] as const)('a save on %s', (device) => {
  it.skipIf(device === 'webgpu' && !gpu)(
    'holds the weights at its call although steps run before it is awaited',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1000 }),
          fc.integer({ min: 1, max: 4 }),
          async (seed, steps) => {
            const m = build(seed, device);
            const opt = new optim.SGD(m.parameters()[0], { lr: 0.1, momentum: 0.9, dampening: 0 });
            const x = randn([5, 3]).to(device);
            step(m, opt, x);
            const atCall = await weights(m);
            const path = join(dir, `${device}-${seed}.safetensors`);
            const saving = saveModule(path, m, { step: 1 }, opt);
            const bytes = moduleToSafetensors(m);
            for (let i = 0; i < steps; i++) step(m, opt, x);
            await saving;
            const after = await weights(m);
            // The steps did change the weights (else the check below proves nothing).
            expect(after).not.toEqual(atCall);
            expect(await fileWeights(path)).toEqual(atCall);
            // The in-memory encoder takes its snapshot at its call too.
            const other = build(seed + 1, 'cpu');
            await loadModule(path, other);
            expect(await weights(other)).toEqual(atCall);
            expect((await bytes).length).toBeGreaterThan(0);
            x.dispose();
          },
        ),
        { numRuns: device === 'cpu' ? 20 : 5 },
      );
    },
  );

  it.skipIf(device === 'webgpu' && !gpu)(
    'saveTensors holds the values at its call, also when called inside a tidy',
    async () => {
      // Several tensors: the old save read each after the previous one's await, so the later ones tore.
      const ts = { a: randn([4, 5]).to(device), b: randn([3]).to(device), c: randn([2, 2]).to(device) };
      const before = await Promise.all(Object.values(ts).map(async (t) => Array.from(await t.data())));
      const path = join(dir, `t-${device}.safetensors`);
      const saving = tidy(() => ({ p: saveTensors(path, ts) })).p;
      for (const t of Object.values(ts)) tidy(() => t.copy_(mul(t, t)));
      await saving;
      const after = await Promise.all(Object.values(ts).map(async (t) => Array.from(await t.data())));
      expect(after).not.toEqual(before);
      const back = await loadTensors(path);
      expect(Object.values(back).map((t) => Array.from(t.dataSync()))).toEqual(before);
      for (const t of [...Object.values(back), ...Object.values(ts)]) t.dispose();
    },
  );
});
