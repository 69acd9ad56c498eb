import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@webrnn/rnn';
import { main, timeSeries } from '../src/recurrent-time-series.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the recurrent-time-series example (Element-research's recurrent-time-series.lua). */
const cpu = ['--backend', 'cpu'];

describe('recurrent-time-series', () => {
  it('the error falls, the smallest error is reported with its iteration, the plot is written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...cpu, '--n-iterations', '150', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(150);
    expect(mean(r.losses.slice(-10))).toBeLessThan(0.5 * mean(r.losses.slice(0, 10)));
    expect(r.minErr).toBe(Math.min(...r.losses));
    expect(r.losses[r.minK - 1]).toBe(r.minErr);
    expectPlot(path.join(out, 'loss'));
    expect(r.summary).toContain(`on iteration ${r.minK}`);
  });

  it('is deterministic for a seed', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...cpu, '--n-iterations', '5', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('7');
    expect(await losses('7')).toEqual(a);
    expect(await losses('8')).not.toEqual(a);
  });

  it("the data set is the script's: normal densities of a counter 0..10 plus a bias per variable", () => {
    manualSeed(1);
    const s = timeSeries(40, 4);
    const bias = s[5]!.map((v, i) => v - 1 / ((i + 1) * Math.sqrt(2 * Math.PI))); // j = 5 is the mean
    for (let t = 0; t < 40; t++) {
      s[t]!.forEach((v, i) => {
        const sigma = i + 1;
        const b = ((t % 11) - 5) / sigma;
        expect(v).toBeCloseTo(Math.exp((-b * b) / 2) / (sigma * Math.sqrt(2 * Math.PI)) + bias[i]!, 12);
      });
    }
    expect(new Set(bias).size).toBe(4); // a random bias per variable
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--multi-size', '1'])).rejects.toThrow('--multi-size must be at least 2');
    await expect(main(['--learning-rate', '0'])).rejects.toThrow('--learning-rate must be greater than 0');
  });
});

const adapter = await webgpuForFile('recurrent-time-series');

describe('recurrent-time-series on WebGPU', () => {
  it.skipIf(!adapter)('follows the CPU run (same seed: same weights and batches) and learns', async () => {
    const args = ['--n-iterations', '60'];
    const c = (await quietly(() => main([...cpu, ...args, '--out', tmpDir()])))!;
    const g = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    expect(g.device).toBe('webgpu');
    g.losses.forEach((l, i) =>
      expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, c.losses[i]!)),
    );
    expect(mean(g.losses.slice(-10))).toBeLessThan(0.5 * mean(g.losses.slice(0, 10)));
  });
});
