import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, select } from '@webrnn/rnn';
import { main } from '../src/seq2seq.js';
import { decoderInputs, timeMajor } from '../src/seq2seq/data.js';
import { buildSeq2Seq, trainStep } from '../src/seq2seq/model.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of the seq2seq example with tiny sizes: it learns, decodes greedily, and writes its plots. */
const tiny = ['--backend', 'cpu', '--length', '3', '--digits', '4', '--hidden', '16', '--embed', '8'];
const run = (args: string[]) => quietly(() => main([...tiny, ...args]));

describe('seq2seq', () => {
  it('the coupled encoder-decoder learns to reverse: loss falls, greedy accuracy beats chance', async () => {
    const out = tmpDir();
    const r = (await run(['--iterations', '60', '--eval-every', '30', '--eval-size', '100', '--out', out]))!;
    expect(r.device).toBe('cpu');
    expect(r.attention).toBeNull();
    expect(r.losses).toHaveLength(60);
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.7 * mean(r.losses.slice(0, 5)));
    expect(r.evaluations.map((e) => e.iteration)).toEqual([0, 30, 60]);
    // Chance is 1/4 per token and 1/64 per sequence.
    expect(r.tokenAccuracy).toBeGreaterThan(0.75);
    expect(r.exactMatch).toBeGreaterThan(0.5);
    expect(r.evaluations[0]!.exact).toBeLessThan(0.2);
    for (const name of ['loss', 'accuracy']) expectPlot(path.join(out, name));
    expect(r.files.map((f) => path.basename(f))).toEqual([
      'loss.svg',
      'loss.png',
      'accuracy.svg',
      'accuracy.png',
    ]);
    for (const row of ['exact match', 'token accuracy', 'training', 'it/s', path.resolve(out)]) {
      expect(r.summary).toContain(row);
    }
  });

  it.each(['general', 'additive'])('--attention --score %s learns to sort', async (score) => {
    const r = (await run([
      ...['--task', 'sort', '--attention', '--score', score, '--iterations', '60'],
      ...['--eval-every', '60', '--eval-size', '100', '--out', tmpDir()],
    ]))!;
    expect(r.attention).toBe(score);
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.7 * mean(r.losses.slice(0, 5)));
    expect(r.tokenAccuracy).toBeGreaterThan(0.75);
    expect(r.summary).toContain(`attention (${score})`);
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--task', 'copy'])).rejects.toThrow('--task must be one of reverse, sort');
    await expect(main(['--score', 'cosine'])).rejects.toThrow('--score must be one of');
    await expect(main(['--length', '0'])).rejects.toThrow('--length must be at least 1');
    await expect(main(['--digits', '1'])).rejects.toThrow('--digits must be at least 2');
  });
});

describe('seq2seq coupling', () => {
  it.each([null, 'general'] as const)(
    'Torch-style chained backward gives the gradients of one tape (attention: %s)',
    (score) => {
      manualSeed(3);
      const [S, N, digits] = [4, 3, 5];
      const m = buildSeq2Seq(digits, 3, 4, score);
      for (const module of m.modules) module.double();
      const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
      const rows = Array.from({ length: N }, (_, b) =>
        Array.from({ length: S }, (_, t) => (b + 2 * t) % digits),
      );
      const source = timeMajor(rows, 'cpu');
      const target = timeMajor(
        rows.map((r) => [...r].reverse()),
        'cpu',
      );
      const decIn = timeMajor(
        decoderInputs(
          rows.map((r) => [...r].reverse()),
          digits,
        ),
        'cpu',
      );
      const grads = () => m.modules.flatMap((module) => module.parameters()[1]);
      // Torch style: each stage's backward, the coupling hooks in between.
      trainStep(m, criterion, source, decIn, target);
      const chained = grads().map((g) => Array.from(g.dataSync()));
      // The encoder learns only through the coupling (and the attention): its gradients must not be zero.
      expect(m.encLSTM.weight.grad!.abs().sum().itemSync()).toBeGreaterThan(0);
      // Tape style: one graph from the source to the loss, one backward.
      for (const module of m.modules) module.zeroGradParameters();
      const encOut = m.encLSTM.forward(m.encEmbed.forward(source)) as Tensor;
      m.decLSTM.userPrevOutput = select(encOut, 0, S - 1);
      m.decLSTM.userPrevCell = select(m.encLSTM.cell!, 0, S - 1);
      const decOut = m.decLSTM.forward(m.decEmbed.forward(decIn)) as Tensor;
      criterion.forward(m.head.forward(score ? [decOut, encOut] : decOut), target).backward();
      grads().forEach((g, i) => {
        const want = chained[i]!;
        Array.from(g.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 10));
      });
    },
  );
});

const adapter = await webgpuForFile('seq2seq');

describe('seq2seq on WebGPU', () => {
  it.skipIf(!adapter)(
    'learns, and its first loss is the CPU one (same seed: same weights, same batch)',
    async () => {
      const args = [...tiny, '--attention', '--iterations', '30', '--eval-every', '30', '--eval-size', '50'];
      const cpu = (await quietly(() => main([...args, '--out', tmpDir()])))!;
      const gpu = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
      expect(gpu.device).toBe('webgpu');
      expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!)).toBeLessThan(1e-4 * Math.max(1, cpu.losses[0]!));
      expect(mean(gpu.losses.slice(-5))).toBeLessThan(0.9 * mean(gpu.losses.slice(0, 5)));
    },
  );
});
