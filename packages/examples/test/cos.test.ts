import { existsSync } from 'node:fs';
import path from 'node:path';
import { memory } from '@webrnn/rnn';
import { describe, expect, it } from 'vitest';
import { TUTORIAL, main } from '../src/cos.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the cos example with tiny sizes: it learns, evaluates, and writes its plots. */
const tiny = ['--backend', 'cpu', '--hidden', '8', '--batch', '8', '--predict', '20'];

describe('cos', () => {
  it('the loss falls and the loss, one-step and multi-step plots are written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...tiny, '--iterations', '40', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(40);
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)));
    expect(Number.isFinite(r.oneStepMse)).toBe(true);
    expect(Number.isFinite(r.multiStepMse!)).toBe(true);
    for (const name of ['loss', 'one-step', 'multi-step']) expectPlot(path.join(out, name));
    expect(r.files.map((f) => path.basename(f))).toEqual([
      'loss.svg',
      'loss.png',
      'one-step.svg',
      'one-step.png',
      'multi-step.svg',
      'multi-step.png',
    ]);
  });

  it('--select trains the SplitTable/SelectTable form; --eval-one-step skips the multi-step run', async () => {
    const out = tmpDir();
    const r = (await quietly(() =>
      main([...tiny, '--iterations', '40', '--select', '--eval-one-step', '--out', out]),
    ))!;
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)));
    expect(r.multiStepMse).toBeNull();
    expectPlot(path.join(out, 'one-step'));
    expect(existsSync(path.join(out, 'multi-step.png'))).toBe(false);
  });

  it("--tutorial takes the tutorial's settings for the options not given", async () => {
    const r = (await quietly(() => main(['--tutorial', ...tiny, '--iterations', '2', '--out', tmpDir()])))!;
    expect(r.settings).toEqual({ ...TUTORIAL, iterations: 2, hidden: 8, batch: 8, predict: 20 });
  });

  it('training keeps no tensors per iteration (each iteration is one tidy scope)', async () => {
    const live = async (iterations: number) => {
      const before = memory().tensors;
      await quietly(() =>
        main([...tiny, '--iterations', String(iterations), '--eval-one-step', '--out', tmpDir()]),
      );
      return memory().tensors - before; // what the model itself holds
    };
    expect(await live(20)).toBe(await live(2));
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--hidden', 'big'])).rejects.toThrow("--hidden must be an integer, got 'big'");
    await expect(main(['--batch', '0'])).rejects.toThrow('--batch must be at least 1');
    await expect(main(['--backend', 'tpu'])).rejects.toThrow('--backend must be one of cpu, webgpu, auto');
    await expect(main(['--nope'])).rejects.toThrow(/--nope/);
  });
});

const adapter = await webgpuForFile('cos');

describe('cos on WebGPU', () => {
  it.skipIf(!adapter)(
    'learns, and its first loss is the CPU one (same seed: same weights, same batch)',
    async () => {
      const args = [...tiny, '--iterations', '30'];
      const cpu = (await quietly(() => main([...args, '--out', tmpDir()])))!;
      const gpu = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
      expect(gpu.device).toBe('webgpu');
      expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!)).toBeLessThan(1e-4 * Math.max(1, cpu.losses[0]!));
      expect(mean(gpu.losses.slice(-5))).toBeLessThan(mean(gpu.losses.slice(0, 5)));
      expect(Number.isFinite(gpu.multiStepMse!)).toBe(true);
    },
  );
});
