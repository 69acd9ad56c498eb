import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, noGrad, tensor } from '@webrnn/rnn';
import { buildModel, main } from '../src/simple-bisequencer-network.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the simple-bisequencer-network example (Element-research's simple-bisequencer-network.lua). */
const cpu = ['--backend', 'cpu'];

describe('simple-bisequencer-network', () => {
  it('the loss falls, the next item is predicted above chance, the plot is written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...cpu, '--iterations', '200', '--lr', '0.5', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(200);
    expect(mean(r.losses.slice(-10))).toBeLessThan(0.5 * mean(r.losses.slice(0, 10)));
    expect(r.accuracy).toBeGreaterThan(0.5); // chance: 10%
    expectPlot(path.join(out, 'loss'));
  });

  it('is deterministic for a seed', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...cpu, '--iterations', '4', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('2');
    expect(await losses('2')).toEqual(a);
    expect(await losses('3')).not.toEqual(a);
  });

  it('is a language model: output t does not depend on word t, but on every other word', () => {
    manualSeed(4);
    const rnn = buildModel(5, 6).double();
    rnn.evaluate();
    const words = [3, 1, 4, 1, 5, 9];
    const outputs = (ws: number[]) =>
      noGrad(() =>
        (rnn.forward(ws.map((w) => tensor(Int32Array.from([w]), { dtype: 'int32' }))) as Tensor[]).map((o) =>
          Array.from(o.dataSync()),
        ),
      );
    const base = outputs(words);
    expect(base).toHaveLength(6);
    for (let t = 0; t < words.length; t++) {
      const changed = outputs(words.map((w, s) => (s === t ? (w + 3) % 10 : w)));
      changed.forEach((o, s) => {
        const same = o.every((v, j) => v === base[s]![j]);
        expect(same, `output ${s} after changing word ${t}`).toBe(s === t);
      });
    }
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--rho', '1'])).rejects.toThrow('--rho must be at least 2');
  });
});

const adapter = await webgpuForFile('simple-bisequencer-network');

describe('simple-bisequencer-network on WebGPU', () => {
  it.skipIf(!adapter)('follows the CPU run (same seed: same weights and batches)', async () => {
    const args = ['--iterations', '20', '--lr', '0.5'];
    const c = (await quietly(() => main([...cpu, ...args, '--out', tmpDir()])))!;
    const g = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    expect(g.device).toBe('webgpu');
    g.losses.forEach((l, i) =>
      expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, c.losses[i]!)),
    );
    expect(g.accuracy).toBe(c.accuracy);
  });
});
