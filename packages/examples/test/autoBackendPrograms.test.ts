import { afterAll, describe, expect, it } from 'vitest';
import { forgetDeviceChoices } from '@webrnn/rnn';
import { main as charLm } from '../src/char-lm.js';
import { main as cos } from '../src/cos.js';
import { main as coupling } from '../src/encoder-decoder-coupling.js';
import { main as nested } from '../src/nested-recurrence-lstm.js';
import { main as languageModel } from '../src/recurrent-language-model.js';
import { main as timeSeries } from '../src/recurrent-time-series.js';
import { main as attention } from '../src/recurrent-visual-attention.js';
import { main as seq2seq } from '../src/seq2seq.js';
import { main as classify } from '../src/sequence-classify.js';
import { main as sequenceToOne } from '../src/sequence-to-one.js';
import { main as bisequencerVariable } from '../src/simple-bisequencer-network-variable.js';
import { main as bisequencer } from '../src/simple-bisequencer-network.js';
import { main as simpleRnn } from '../src/simple-rnn.js';
import { printed, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/**
 * Every program's own probe under `--backend auto` on the real devices (lavapipe here), at small sizes and for one
 * or two iterations: the probe runs on both devices without an error (chooseDevice refuses a probe that fails or
 * leaves a tensor behind), the line printed names the measured figures, and the program runs on the device named.
 */
const gpu = await webgpuForFile('autoBackendPrograms');
afterAll(() => forgetDeviceChoices());

type Main = (argv: readonly string[]) => Promise<unknown>;
const PROGRAMS: [string, Main, string[]][] = [
  ['cos', cos, ['--hidden', '8', '--batch', '4', '--iterations', '1', '--predict', '5', '--eval-one-step']],
  ['simple-rnn', simpleRnn, ['--iterations', '1']],
  ['sequence-to-one', sequenceToOne, ['--iterations', '1']],
  ['recurrent-time-series', timeSeries, ['--n-iterations', '1']],
  ['nested-recurrence-lstm', nested, ['--iterations', '1', '--hidden', '8']],
  ['simple-bisequencer-network', bisequencer, ['--iterations', '1']],
  ['simple-bisequencer-network-variable', bisequencerVariable, ['--max-iter', '1']],
  ['encoder-decoder-coupling', coupling, ['--iterations', '1']],
  [
    'seq2seq',
    seq2seq,
    ['--iterations', '1', '--hidden', '8', '--embed', '4', '--eval-size', '4', '--attention'],
  ],
  ['sequence-classify', classify, ['--iterations', '1', '--hidden', '8', '--embed', '4', '--eval-size', '4']],
  [
    'char-lm',
    charLm,
    [
      '--iterations',
      '1',
      '--hidden',
      '8',
      '--embed',
      '4',
      '--batch',
      '4',
      '--seq-length',
      '8',
      '--sample-length',
      '4',
    ],
  ],
  [
    'recurrent-language-model',
    languageModel,
    ['--nce', '--k', '4', '--hiddensize', '8', '--batchsize', '4', '--trainsize', '2', '--maxepoch', '1'],
  ],
  [
    'recurrent-visual-attention',
    attention,
    [
      ...['--iterations', '1', '--canvas', '16', '--classes', '4', '--glimpse-depth', '2', '--rho', '2'],
      ...[
        '--hidden-size',
        '8',
        '--image-hidden-size',
        '8',
        '--glimpse-hidden-size',
        '8',
        '--locator-hidden-size',
        '8',
      ],
      ...['--batch-size', '4', '--eval-size', '4'],
    ],
  ],
];

describe('--backend auto in every program', () => {
  for (const [name, main, args] of PROGRAMS) {
    it.skipIf(!gpu)(
      `${name}: its probe is measured on cpu and webgpu and the run takes the faster`,
      async () => {
        const [, lines] = await printed(() => main(['--backend', 'auto', ...args, '--out', tmpDir()]));
        const line = lines.find((l) => l.startsWith('backend: '));
        expect(line).toMatch(
          /^backend: (cpu|webgpu) \(measured: cpu [\d.]+ ms\/step, webgpu [\d.]+ ms\/step on \S+\)$/,
        );
        const [, chosen, cpuMs, gpuMs] = line!.match(
          /^backend: (\w+) \(measured: cpu ([\d.]+) .*webgpu ([\d.]+) /,
        )!;
        expect(chosen).toBe(Number(gpuMs) < Number(cpuMs) ? 'webgpu' : 'cpu');
      },
      300_000,
    );
  }
});
