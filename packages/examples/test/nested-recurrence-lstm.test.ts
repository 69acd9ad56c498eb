import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, tensor } from '@webrnn/rnn';
import { buildModel, main } from '../src/nested-recurrence-lstm.js';
import { CountingSequence } from '../src/shared/countingSequence.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** The module and every module below it. */
const descendants = (m: nn.Module): nn.Module[] => [m, ...m.children().flatMap(descendants)];

/** Smoke tests of the nested-recurrence-lstm example (Element-research's nested-recurrence-lstm.lua). */
const cpu = ['--backend', 'cpu'];

describe('nested-recurrence-lstm', () => {
  it('the loss falls, the next item is predicted above chance, the plot is written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...cpu, '--iterations', '300', '--lr', '0.5', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(300);
    expect(mean(r.losses.slice(-10))).toBeLessThan(0.7 * mean(r.losses.slice(0, 10)));
    expect(r.accuracy).toBeGreaterThan(0.3); // chance: 10%
    expectPlot(path.join(out, 'loss'));
    expect(r.summary).toContain('accuracy');
  });

  it('is deterministic for a seed', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...cpu, '--iterations', '4', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('2');
    expect(await losses('2')).toEqual(a);
    expect(await losses('3')).not.toEqual(a);
  });

  it("the Sequencer's step-wise backward through the nested FastLSTM equals one tape's gradients", () => {
    manualSeed(11);
    const rnn = buildModel(4).double();
    rnn.training();
    const data = new CountingSequence(3).next(5);
    const steps = (rows: number[][]) =>
      rows.map((r) =>
        tensor(
          Int32Array.from(r, (v) => v - 1),
          { dtype: 'int32' },
        ),
      );
    const [inputs, targets] = [steps(data.inputs), steps(data.targets)];
    const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    const grads = () => rnn.parameters()[1].map((g) => Array.from(g.dataSync()));
    // Torch style: forward, criterion, backward.
    rnn.zeroGradParameters();
    let outputs = rnn.forward(inputs) as Tensor[];
    criterion.forward(outputs, targets);
    rnn.backward(inputs, criterion.backward(outputs, targets));
    const torchStyle = grads();
    const lstm = descendants(rnn).find((m) => m instanceof nn.FastLSTM)!;
    expect(lstm).toBeDefined();
    expect(lstm.parameters()[1].some((g) => g.abs().sum().itemSync() > 0)).toBe(true);
    // Tape style: the loss's backward.
    rnn.zeroGradParameters();
    outputs = rnn.forward(inputs) as Tensor[];
    criterion.forward(outputs, targets).backward();
    grads().forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(torchStyle[i]![j]!, 10)));
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--hidden', '0'])).rejects.toThrow('--hidden must be at least 1');
  });
});

const adapter = await webgpuForFile('nested-recurrence-lstm');

describe('nested-recurrence-lstm on WebGPU', () => {
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
