import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/simple-rnn.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

describe('simple-rnn', () => {
  it('the Recursor, Sequencer and Recurrence nets all learn, and the loss plot is written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main(['--backend', 'cpu', '--iterations', '60', '--out', out])))!;
    for (const [name, losses] of Object.entries(r.losses)) {
      expect(losses, name).toHaveLength(60);
      expect(mean(losses.slice(-5)), name).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
    }
    expectPlot(path.join(out, 'loss'));
  });
});

const adapter = await webgpuForFile('simple-rnn');

describe('simple-rnn on WebGPU', () => {
  it.skipIf(!adapter)('the three nets start from the CPU losses (same seed) and learn', async () => {
    const args = ['--iterations', '30'];
    const cpu = (await quietly(() => main([...args, '--backend', 'cpu', '--out', tmpDir()])))!;
    const gpu = (await quietly(() => main([...args, '--backend', 'webgpu', '--out', tmpDir()])))!;
    for (const [name, losses] of Object.entries(gpu.losses)) {
      const first = cpu.losses[name as keyof typeof cpu.losses][0]!;
      expect(Math.abs(losses[0]! - first), name).toBeLessThan(1e-4 * Math.max(1, first));
      expect(mean(losses.slice(-5)), name).toBeLessThan(0.9 * mean(losses.slice(0, 5)));
    }
  });
});
