import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as cos } from '../src/cos.js';
import { main as simpleRnn } from '../src/simple-rnn.js';

/** Smoke tests: each program with tiny sizes learns (its loss falls) and writes its plots. */
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'webrnn-example-'));

describe('examples', () => {
  it('cos: the loss falls and the three plots are written', async () => {
    const out = tmp();
    const r = await cos([
      '--backend',
      'cpu',
      '--iterations',
      '60',
      '--hidden',
      '8',
      '--batch',
      '8',
      '--predict',
      '20',
      '--out',
      out,
    ]);
    const first = r!.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r!.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first);
    expect(Number.isFinite(r!.oneStepMse)).toBe(true);
    for (const f of ['loss', 'one-step', 'multi-step']) {
      expect(existsSync(path.join(out, `${f}.svg`))).toBe(true);
      expect(existsSync(path.join(out, `${f}.png`))).toBe(true);
    }
  });

  it('cos --select and --eval-one-step', async () => {
    const out = tmp();
    const r = await cos([
      '--backend',
      'cpu',
      '--iterations',
      '5',
      '--hidden',
      '4',
      '--batch',
      '4',
      '--predict',
      '5',
      '--select',
      '--eval-one-step',
      '--out',
      out,
    ]);
    expect(r!.multiStepMse).toBeNull();
    expect(existsSync(path.join(out, 'multi-step.png'))).toBe(false);
  });

  it('simple-rnn: all three variants learn', async () => {
    const out = tmp();
    const r = await simpleRnn(['--backend', 'cpu', '--iterations', '80', '--out', out]);
    for (const losses of Object.values(r!.losses)) expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    expect(existsSync(path.join(out, 'loss.png'))).toBe(true);
  });

  it('--help prints the options and returns nothing', async () => {
    expect(await cos(['--help'])).toBeNull();
  });
});
