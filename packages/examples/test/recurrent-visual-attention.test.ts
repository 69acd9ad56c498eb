import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@webrnn/rnn';
import { main } from '../src/recurrent-visual-attention.js';
import { FONT, FONT_HEIGHT, FONT_WIDTH, drawDigits } from '../src/recurrent-visual-attention/digits.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of recurrent-visual-attention (Element-research's recurrent-visual-attention.lua), small sizes. */
const small = [
  ...['--backend', 'cpu', '--canvas', '16', '--classes', '4', '--glimpse-depth', '2', '--rho', '3'],
  ...[
    '--hidden-size',
    '32',
    '--image-hidden-size',
    '32',
    '--glimpse-hidden-size',
    '32',
    '--locator-hidden-size',
    '16',
  ],
  ...['--learning-rate', '0.05', '--uniform', '0.3', '--eval-size', '100'],
];

describe('recurrent-visual-attention', () => {
  it('the NLL falls, the held-out accuracy beats chance, the plots are written', async () => {
    const out = tmpDir();
    const r = (await quietly(() =>
      main([...small, '--iterations', '100', '--eval-every', '50', '--out', out]),
    ))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(100);
    expect(r.rewards).toHaveLength(100);
    expect(r.rewards.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(mean(r.losses.slice(-20))).toBeLessThan(0.9 * mean(r.losses.slice(0, 20)));
    expect(r.evaluations.map((e) => e.iteration)).toEqual([0, 50, 100]);
    expect(r.accuracy).toBeGreaterThan(0.35); // chance: 25%
    for (const name of ['loss', 'accuracy']) expectPlot(path.join(out, name));
    expect(r.summary).toContain('held-out images');
  });

  it('is deterministic for a seed', async () => {
    const run = async (seed: string) =>
      (await quietly(() =>
        main([...small, '--iterations', '3', '--eval-size', '10', '--seed', seed, '--out', tmpDir()]),
      ))!;
    const a = await run('4');
    const b = await run('4');
    expect(b.losses).toEqual(a.losses);
    expect(b.rewards).toEqual(a.rewards);
    expect((await run('5')).losses).not.toEqual(a.losses);
  });

  it('the digits are the font’s glyphs, scaled, inside the canvas at their offsets', () => {
    manualSeed(3);
    const s = { canvas: 19, scale: 2, classes: 10 };
    const { pixels, labels, offsets } = drawDigits(40, s);
    expect(new Set(labels).size).toBe(10);
    labels.forEach((label, i) => {
      const [top, left] = offsets[i]!;
      expect(top + FONT_HEIGHT * 2).toBeLessThanOrEqual(19);
      expect(left + FONT_WIDTH * 2).toBeLessThanOrEqual(19);
      for (let y = 0; y < 19; y++) {
        for (let x = 0; x < 19; x++) {
          const [gy, gx] = [Math.floor((y - top) / 2), Math.floor((x - left) / 2)];
          const ink =
            gy >= 0 && gy < FONT_HEIGHT && gx >= 0 && gx < FONT_WIDTH && FONT[label]![gy]![gx] === '1';
          expect(pixels[i * 361 + y * 19 + x]).toBe(ink ? 1 : 0);
        }
      }
    });
    expect(() => drawDigits(1, { canvas: 10, scale: 2, classes: 10 })).toThrow(
      'a digit scaled 2 times (10x14) does not fit in a 10x10 canvas',
    );
  });

  it("--lua takes the script's settings for the options not given", async () => {
    const r = (await quietly(() =>
      main([
        '--lua',
        '--backend',
        'cpu',
        '--iterations',
        '1',
        '--eval-size',
        '4',
        '--hidden-size',
        '16',
        '--out',
        tmpDir(),
      ]),
    ))!;
    expect(r.summary).toContain('7 glimpses of 8x8 x 1, Recurrent 16; SGD lr 0.01');
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--classes', '11'])).rejects.toThrow('--classes must be at most 10, got 11');
    await expect(main(['--locator-std', '0'])).rejects.toThrow('--locator-std must be greater than 0');
  });
});

const adapter = await webgpuForFile('recurrent-visual-attention');

describe('recurrent-visual-attention on WebGPU', () => {
  it.skipIf(!adapter)(
    'its first losses are the CPU ones (same seed: same weights, images and samples)',
    async () => {
      const args = [...small, '--iterations', '5', '--eval-size', '20'];
      const c = (await quietly(() => main([...args, '--out', tmpDir()])))!;
      const g = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
      expect(g.device).toBe('webgpu');
      g.losses.forEach((l, i) =>
        expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, c.losses[i]!)),
      );
      expect(g.evaluations[0]!.accuracy).toBe(c.evaluations[0]!.accuracy);
    },
  );
});
