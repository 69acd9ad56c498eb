import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, noGrad, randn, tensor } from '@webrnn/rnn';
import { buildModel, main } from '../src/simple-bisequencer-network-variable.js';
import { VariableCounting } from '../src/simple-bisequencer-network-variable/data.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/** Smoke tests of simple-bisequencer-network-variable (Element-research's ...-variable.lua) with masks. */
const cpu = ['--backend', 'cpu'];

describe('simple-bisequencer-network-variable', () => {
  it('the loss falls and the accuracy on the real steps rises; loss and accuracy plots are written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...cpu, '--max-iter', '60', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(60);
    expect(r.accuracies).toHaveLength(60);
    expect(r.accuracies.every((a) => a >= 0 && a <= 1)).toBe(true);
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.5 * mean(r.losses.slice(0, 5)));
    expect(mean(r.accuracies.slice(-5))).toBeGreaterThan(mean(r.accuracies.slice(0, 5)) + 0.3);
    for (const name of ['loss', 'accuracy']) expectPlot(path.join(out, name));
    expect(r.summary).toContain('real steps');
  });

  it('is deterministic for a seed', async () => {
    const losses = async (seed: string) =>
      (await quietly(() => main([...cpu, '--max-iter', '3', '--seed', seed, '--out', tmpDir()])))!.losses;
    const a = await losses('6');
    expect(await losses('6')).toEqual(a);
    expect(await losses('7')).not.toEqual(a);
  });

  it('batches are right-padded with 0, and the reversed input holds each sample’s real steps reversed', () => {
    manualSeed(8);
    const data = new VariableCounting(6, 7);
    expect(data.maxStep.every((m) => m >= 1 && m <= 7)).toBe(true);
    for (let k = 0; k < 3; k++) {
      const b = data.next();
      for (let j = 0; j < 6; j++) {
        const len = data.maxStep[j]!;
        const col = (rows: number[][]) => rows.map((r) => r[j]!);
        const [x, xr, y] = [col(b.inputs), col(b.inputsRev), col(b.targets)];
        expect(x.slice(len).every((v) => v === 0)).toBe(true);
        expect(y.slice(len).every((v) => v === 0)).toBe(true);
        expect(xr).toEqual([...x.slice(0, len).reverse(), ...x.slice(len)]);
        x.slice(0, len).forEach((v, t) => expect(y[t]).toBe((v % 10) + 1)); // the next item
      }
    }
  });

  it('masking: padded steps give zero outputs; real steps equal the sample run alone, unpadded', () => {
    manualSeed(2);
    const rnn = buildModel(4).double();
    rnn.evaluate();
    // Random weights everywhere (a fresh LSTM's zero biases would hide a mask that leaks).
    noGrad(() => {
      for (const p of rnn.parameters()[0]) p.copy_(randn(p.shape, { dtype: 'float64' }));
    });
    const data = new VariableCounting(5, 6);
    const b = data.next();
    const col = (rows: number[][], j: number) => rows.map((r) => [r[j]!]);
    const run = (xs: number[][], xr: number[][]) =>
      noGrad(() =>
        (
          rnn.forward(
            [xs, xr].map((rows) => rows.map((r) => tensor(Int32Array.from(r), { dtype: 'int32' }))),
          ) as Tensor[]
        ).map((o) => Array.from(o.dataSync())),
      );
    const batched = run(b.inputs, b.inputsRev);
    for (let j = 0; j < 5; j++) {
      const len = data.maxStep[j]!;
      const alone = run(col(b.inputs, j).slice(0, len), col(b.inputsRev, j).slice(0, len));
      expect(alone).toHaveLength(len);
      for (let t = 0; t < 6; t++) {
        const row = batched[t]!.slice(j * 10, (j + 1) * 10);
        if (data.padded(t, j)) expect(row.every((v) => v === 0)).toBe(true);
        else row.forEach((v, c) => expect(v).toBeCloseTo(alone[t]![c]!, 12));
      }
    }
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--max-iter', '0'])).rejects.toThrow('--max-iter must be at least 1');
  });
});

const adapter = await webgpuForFile('simple-bisequencer-network-variable');

describe('simple-bisequencer-network-variable on WebGPU', () => {
  it.skipIf(!adapter)('follows the CPU run (same seed: same weights, batches and masks)', async () => {
    const args = ['--max-iter', '15'];
    const c = (await quietly(() => main([...cpu, ...args, '--out', tmpDir()])))!;
    const g = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    expect(g.device).toBe('webgpu');
    g.losses.forEach((l, i) =>
      expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, c.losses[i]!)),
    );
    expect(g.accuracies).toEqual(c.accuracies);
  });
});
