import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/simple-rnn.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';

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
