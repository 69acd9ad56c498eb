import path from 'node:path';
import { type Tensor, manualSeed, noGrad, randn } from '@webrnn/rnn';
import { describe, expect, it } from 'vitest';
import { LAYERS, buildModel, main } from '../src/sequence-classify.js';
import { examples, leftPadded } from '../src/sequence-classify/data.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the sequence-classify example with tiny sizes: it learns, and writes its plots and summary. */
const tiny = ['--backend', 'cpu', '--hidden', '8', '--embed', '8', '--max-length', '8', '--eval-size', '200'];

describe('sequence-classify', () => {
  it.each(LAYERS)('the bidirectional classifier (%s) learns the sentiment task', async (layer) => {
    const out = tmpDir();
    const r = (await quietly(() =>
      main([...tiny, '--layer', layer, '--iterations', '60', '--eval-every', '30', '--out', out]),
    ))!;
    expect(r.device).toBe('cpu');
    expect(r.layer).toBe(layer);
    expect(r.losses).toHaveLength(60);
    expect(r.trainAccuracy).toHaveLength(60);
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.7 * mean(r.losses.slice(0, 5)));
    expect(r.evaluations.map((e) => e.iteration)).toEqual([0, 30, 60]);
    // Two balanced classes: chance is about 50%.
    expect(r.accuracy).toBeGreaterThan(0.8);
    for (const name of ['loss', 'accuracy']) expectPlot(path.join(out, name));
    expect(r.files.map((f) => path.basename(f))).toEqual([
      'loss.svg',
      'loss.png',
      'accuracy.svg',
      'accuracy.png',
    ]);
    for (const row of ['accuracy', 'majority class', 'it/s', path.resolve(out)]) {
      expect(r.summary).toContain(row);
    }
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--task', 'topic'])).rejects.toThrow('--task must be one of sentiment, parity');
    await expect(main(['--layer', 'lstm'])).rejects.toThrow('--layer must be one of seqblstm, bisequencer');
    await expect(main(['--min-length', '5', '--max-length', '3'])).rejects.toThrow(
      '--max-length (3) must be at least --min-length (5)',
    );
  });
});

describe('sequence-classify data and masking', () => {
  it('labels follow the rules; tokens are 1..vocab; lengths vary within the bounds', () => {
    manualSeed(2);
    const s = examples('sentiment', 200, 3, 9, 8); // 1-2 positive, 3-4 negative, 8 is "not"
    for (const [i, seq] of s.tokens.entries()) {
      expect(seq.length).toBeGreaterThanOrEqual(3);
      expect(seq.length).toBeLessThanOrEqual(9);
      expect(seq.every((w) => w >= 1 && w <= 8)).toBe(true);
      const score = seq.reduce(
        (a, w, t) => a + (t > 0 && seq[t - 1] === 8 ? -1 : 1) * (w <= 2 ? 1 : w <= 4 ? -1 : 0),
        0,
      );
      expect(s.labels[i]).toBe(score > 0 ? 1 : 0);
    }
    expect(new Set(s.tokens.map((t) => t.length)).size).toBeGreaterThan(3);
    const p = examples('parity', 50, 1, 6, 8);
    p.tokens.forEach((seq, i) => expect(p.labels[i]).toBe(seq.filter((w) => w === 2).length % 2));
  });

  it('left-padding is masked: a sequence is classified alike alone or padded in a batch', () => {
    for (const layer of LAYERS) {
      manualSeed(5);
      const model = buildModel('sentiment', layer, 10, 4, 3).double();
      model.evaluate();
      // Random biases too: a fresh LSTM (zero biases but the forget gate's) stays at zero on zero inputs anyway.
      noGrad(() => model.parameters()[0].forEach((p) => p.copy_(randn(p.shape, { dtype: 'float64' }))));
      const seqs = [[3], [1, 2, 3, 4, 5, 6, 7], [9, 9, 1], [10, 4, 4, 2, 8]];
      const x = leftPadded(seqs, 'cpu');
      expect(Array.from(x.dataSync()).slice(0, 4)).toEqual([0, 1, 0, 0]); // step 0: only the longest is real
      const batched = noGrad(() => (model.forward(x) as Tensor).dataSync().slice());
      seqs.forEach((seq, b) => {
        const alone = noGrad(() => (model.forward(leftPadded([seq], 'cpu')) as Tensor).dataSync());
        for (const c of [0, 1]) expect(batched[b * 2 + c]).toBeCloseTo(alone[c]!, 12);
      });
    }
  });
});

const adapter = await webgpuForFile('sequence-classify');

describe('sequence-classify on WebGPU', () => {
  it.skipIf(!adapter)(
    'learns, and its first loss is the CPU one (same seed: same weights, same batch)',
    async () => {
      const args = [...tiny, '--iterations', '30', '--eval-every', '30'];
      const cpu = (await quietly(() => main([...args, '--out', tmpDir()])))!;
      const gpu = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
      expect(gpu.device).toBe('webgpu');
      expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!)).toBeLessThan(1e-4 * Math.max(1, cpu.losses[0]!));
      expect(mean(gpu.losses.slice(-5))).toBeLessThan(0.9 * mean(gpu.losses.slice(0, 5)));
    },
  );
});
