import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, noGrad, tensor } from '@webrnn/rnn';
import { COUPLINGS } from '../src/shared/coupling.js';
import { classes, main, makeCriterion, timeMajor } from '../src/encoder-decoder-coupling.js';
import { buildEncoderDecoder, coupledForward, coupledStep } from '../src/encoder-decoder-coupling/model.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of encoder-decoder-coupling (Element-research's encoder-decoder-coupling.lua), both couplings. */
const cpu = ['--backend', 'cpu'];

describe('encoder-decoder-coupling', () => {
  it.each(COUPLINGS)('--coupling %s: the loss falls and the plot is written', async (coupling) => {
    const out = tmpDir();
    const r = (await quietly(() =>
      main([...cpu, '--coupling', coupling, '--iterations', '60', '--lr', '0.5', '--out', out]),
    ))!;
    expect(r.coupling).toBe(coupling);
    expect(r.losses).toHaveLength(60);
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.5 * mean(r.losses.slice(0, 5)));
    expect(r.predicted.map((p) => p.length)).toEqual([5, 6]); // the real steps of the two targets
    expectPlot(path.join(out, 'loss'));
    expect(r.summary).toContain('decoded');
  });

  it('is deterministic for a seed', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...cpu, '--iterations', '3', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('5');
    expect(await losses('5')).toEqual(a);
    expect(await losses('6')).not.toEqual(a);
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--coupling', 'copy'])).rejects.toThrow('--coupling must be one of userPrev, state');
    await expect(main(['--layers', '0'])).rejects.toThrow('--layers must be at least 1');
  });
});

/**
 * Element-research's test.lua, rnntest.encoderdecoder: after the coupled backward, the gradients of the encoder's
 * and the decoder's parameters equal central differences of the loss (float64). The encoder learns only through
 * the coupling, so its gradient must also be non-zero. Its data, plus a third, padded sentence (issue 142 there).
 */
describe('encoder-decoder coupling gradients (test.lua encoderdecoder)', () => {
  const encIn = [
    [1, 2, 3],
    [3, 2, 1],
    [0, 5, 1], // left-padded
  ];
  const decIn = [
    [1, 2, 3, 4],
    [4, 3, 2, 1],
    [1, 3, 0, 0], // right-padded
  ];
  const decOut = [
    [2, 3, 4, 1],
    [1, 2, 4, 3],
    [5, 2, 0, 0],
  ];
  for (const coupling of COUPLINGS) {
    for (const layers of [1, 2]) {
      it(`--coupling ${coupling}, ${layers} layer(s): encoder and decoder gradients equal finite differences`, () => {
        manualSeed(123);
        const m = buildEncoderDecoder(coupling, 5, 2, layers);
        m.enc.double();
        m.dec.double();
        const criterion = makeCriterion(decOut);
        const [x, d, y] = [timeMajor(encIn, 'cpu'), timeMajor(decIn, 'cpu'), classes(decOut, 'cpu')];
        m.enc.zeroGradParameters();
        m.dec.zeroGradParameters();
        coupledStep(m, criterion, x, d, y);
        const loss = () => noGrad(() => criterion.forward(coupledForward(m, x, d), y).itemSync());
        for (const [name, net] of [
          ['encoder', m.enc],
          ['decoder', m.dec],
        ] as const) {
          const [params, grads] = net.parameters();
          let norm = 0;
          params.forEach((p, i) => {
            const g = grads[i]!.dataSync();
            const base = Float64Array.from(p.dataSync());
            const set = (j: number, v: number) => {
              const w = Float64Array.from(base);
              w[j] = v;
              noGrad(() => p.copy_(tensor(w, { shape: p.shape, dtype: 'float64' })));
            };
            for (let j = 0; j < base.length; j++) {
              const eps = 1e-6;
              set(j, base[j]! + eps);
              const up = loss();
              set(j, base[j]! - eps);
              const down = loss();
              set(j, base[j]!);
              expect(g[j], `${name} parameter ${i}[${j}]`).toBeCloseTo((up - down) / (2 * eps), 7);
              norm += Math.abs(g[j]!);
            }
          });
          expect(norm, `${name} gradient`).toBeGreaterThan(1e-4);
        }
      });
    }
  }
});

const adapter = await webgpuForFile('encoder-decoder-coupling');

describe('encoder-decoder-coupling on WebGPU', () => {
  it.skipIf(!adapter).each(COUPLINGS)('--coupling %s follows the CPU run (same seed)', async (coupling) => {
    const args = ['--coupling', coupling, '--iterations', '10', '--lr', '0.5'];
    const c = (await quietly(() => main([...cpu, ...args, '--out', tmpDir()])))!;
    const g = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    expect(g.device).toBe('webgpu');
    g.losses.forEach((l, i) =>
      expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, c.losses[i]!)),
    );
    expect(g.predicted).toEqual(c.predicted);
  });
});
