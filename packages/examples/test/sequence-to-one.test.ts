import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@webrnn/rnn';
import { main } from '../src/sequence-to-one.js';
import { sequenceToOneData } from '../src/sequence-to-one/data.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the sequence-to-one example (Element-research's sequence-to-one.lua) with small sizes. */
const small = ['--backend', 'cpu', '--hidden', '32', '--size', '300'];

describe('sequence-to-one', () => {
  it('the loss falls, the accuracy beats chance, the loss plot is written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...small, '--iterations', '300', '--lr', '0.5', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(300);
    expect(r.stopped).toBe(false);
    expect(mean(r.losses.slice(-20))).toBeLessThan(0.9 * mean(r.losses.slice(0, 20)));
    expect(r.accuracy).toBeGreaterThan(r.accuracyBefore + 0.1);
    expect(r.accuracy).toBeGreaterThan(1.5 / 7); // chance is 1/7
    expectPlot(path.join(out, 'loss'));
    for (const row of ['accuracy', 'it/s', path.resolve(out)]) expect(r.summary).toContain(row);
  });

  it('is deterministic for a seed, and another seed differs', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...small, '--iterations', '5', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('4');
    expect(await losses('4')).toEqual(a);
    expect(await losses('5')).not.toEqual(a);
  });

  it("the data follow the Lua script's recipe: sorted words drawn from the class's table", () => {
    manualSeed(3);
    const ds = sequenceToOneData(200, 6, 5);
    expect(ds.inputs).toHaveLength(200);
    for (const [i, words] of ds.inputs.entries()) {
      expect(words).toHaveLength(6);
      expect(words).toEqual([...words].sort((a, b) => a - b));
      expect(words.every((w) => Number.isInteger(w) && w >= 0 && w < 5)).toBe(true);
      expect(ds.targets[i]).toBeGreaterThanOrEqual(0);
      expect(ds.targets[i]).toBeLessThan(5);
    }
    expect(new Set(ds.targets).size).toBe(5);
    // The words come from the class's own table of rho*3 words: with many classes, each class uses at most rho*3
    // distinct words while the data set as a whole uses many more.
    const many = sequenceToOneData(500, 3, 40);
    const byClass = new Map<number, Set<number>>();
    many.inputs.forEach((w, i) => {
      const set = byClass.get(many.targets[i]!) ?? new Set<number>();
      for (const x of w) set.add(x);
      byClass.set(many.targets[i]!, set);
    });
    for (const set of byClass.values()) expect(set.size).toBeLessThanOrEqual(9);
    expect(new Set(many.inputs.flat()).size).toBeGreaterThan(20);
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--rho', '0'])).rejects.toThrow('--rho must be at least 1');
    await expect(main(['--n-class', '1'])).rejects.toThrow('--n-class must be at least 2');
    await expect(main(['--n-class', '9', '--n-index', '8'])).rejects.toThrow(
      '--n-class (9) must be at most --n-index (8)',
    );
  });
});

const adapter = await webgpuForFile('sequence-to-one');

describe('sequence-to-one on WebGPU', () => {
  it.skipIf(!adapter)('follows the CPU run (same seed: same weights and batches) and learns', async () => {
    const args = [...small, '--iterations', '150', '--lr', '0.5'];
    const cpu = (await quietly(() => main([...args, '--out', tmpDir()])))!;
    const gpu = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    expect(gpu.device).toBe('webgpu');
    gpu.losses.slice(0, 20).forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-3));
    expect(gpu.accuracy).toBeGreaterThan(gpu.accuracyBefore + 0.05);
  });
});
