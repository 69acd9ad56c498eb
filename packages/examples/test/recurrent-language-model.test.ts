import path from 'node:path';
import { io, memory } from '@webrnn/rnn';
import { describe, expect, it } from 'vitest';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';
import {
  EOS,
  SequenceLoader,
  UNK,
  encodeWords,
  splitThree,
  tokenize,
  wordVocabulary,
} from '../src/languageModel/corpus.js';
import { buildLanguageModel } from '../src/languageModel/model.js';
import { EarlyStopping, nextLearningRate, parseSchedule, parseSizes } from '../src/languageModel/train.js';
import { main } from '../src/recurrent-language-model.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';

// Smoke tests with tiny sizes: a few chunks per epoch, small validation and test parts (one stream each, as the
// example validates), small layers.
const tiny = [
  '--backend',
  'cpu',
  '--hiddensize',
  '16',
  '--batchsize',
  '8',
  '--trainsize',
  '40',
  '--valid-fraction',
  '0.003',
  '--test-fraction',
  '0.003',
];

describe('recurrent-language-model', () => {
  it('trains the LSTM language model: the loss falls, perplexities are reported, the plots are written', async () => {
    const out = tmpDir();
    const before = memory().tensors;
    const r = (await quietly(() =>
      main([...tiny, '--lstm', '--maxepoch', '3', '--startlr', '1', '--cutoff', '5', '--out', out]),
    ))!;
    expect(memory().tensors).toBe(before);
    expect(r.device).toBe('cpu');
    expect(r.config.cell).toBe('lstm');
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    // 40 steps per stream in chunks of 5: 8 iterations an epoch.
    expect(r.losses).toHaveLength(24);
    // From about ln(vocabulary) (a uniform guess) to clearly less.
    expect(r.losses[0]).toBeGreaterThan(0.8 * Math.log(r.config.vocab));
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.9 * mean(r.losses.slice(0, 5)));
    for (const e of r.epochs) {
      expect(e.validPerplexity).toBeGreaterThan(1);
      expect(e.validPerplexity).toBeLessThan(r.config.vocab);
      expect(e.validNce).toBeNull();
    }
    expect(r.bestValidPerplexity).toBe(Math.min(...r.epochs.map((e) => e.validPerplexity)));
    expect(Number.isFinite(r.testPerplexity)).toBe(true);
    expect(r.Z).toBeNull();
    expectPlot(path.join(out, 'loss'));
    expectPlot(path.join(out, 'perplexity'));
    expect(r.summary).toMatch(/validation +perplexity [\d.]+ at epoch \d \(unigram baseline [\d.]+\)/);
    expect(r.summary).toMatch(/test +perplexity [\d.]+/);
    expect(r.summary).toContain(path.resolve(out));
  });

  it('--gru (with --dropout and --adam), --mfru, --lstm --bn and the default simple RNN train too', async () => {
    for (const [flags, cell] of [
      [['--gru', '--dropout', '0.25', '--adam', '--startlr', '0.01'], 'gru'],
      [['--mfru', '--startlr', '0.5'], 'mfru'],
      [['--lstm', '--bn', '--startlr', '0.5'], 'lstm'],
      [['--startlr', '0.1'], 'rnn'],
    ] as const) {
      const r = (await quietly(() => main([...tiny, ...flags, '--maxepoch', '1', '--out', tmpDir()])))!;
      expect(r.config.cell).toBe(cell);
      expect(r.config.bn).toBe((flags as readonly string[]).includes('--bn'));
      expect(r.losses).toHaveLength(8);
      expect(mean(r.losses.slice(-3))).toBeLessThan(mean(r.losses.slice(0, 3)));
    }
  });

  it('--nce trains with NCEModule + NCECriterion, estimates Z, and reports the normalized perplexity', async () => {
    const before = memory().tensors;
    const r = (await quietly(() =>
      main([...tiny, '--nce', '--k', '10', '--maxepoch', '2', '--startlr', '0.5', '--out', tmpDir()]),
    ))!;
    expect(memory().tensors).toBe(before);
    expect(r.config.nce?.k).toBe(10);
    expect(r.Z).toBeGreaterThan(0);
    expect(r.losses).toHaveLength(16);
    expect(mean(r.losses.slice(-4))).toBeLessThan(mean(r.losses.slice(0, 4)));
    for (const e of r.epochs) {
      expect(e.validNce).toBeGreaterThan(0);
      expect(e.validPerplexity).toBeGreaterThan(1);
      expect(e.validPerplexity).toBeLessThan(r.config.vocab * 10);
    }
    expect(r.summary).toMatch(/NCE +k 10, Z [\d.]+ \(estimated\)/);
  });

  it('--save writes the best model with its vocabulary; it loads into the same model', async () => {
    const out = tmpDir();
    const file = path.join(out, 'ckpt', 'lm.safetensors');
    const r = (await quietly(() =>
      main([...tiny, '--lstm', '--maxepoch', '1', '--save', file, '--save-every', '4', '--out', out]),
    ))!;
    const model = buildLanguageModel(r.config, 'cpu');
    try {
      const loaded = await io.loadModule(file, model.net);
      expect((loaded.metadata as { words: string[] }).words).toEqual(r.vocabulary.words);
      await io.loadModule(path.join(out, 'ckpt', 'lm-latest.safetensors'), model.net);
    } finally {
      model.net.dispose();
    }
  });

  it('refuses options it cannot honour, naming them', async () => {
    const refused: [string[], RegExp][] = [
      [['--gru', '--bn'], /--bn normalises the LSTM: it needs --lstm/],
      [['--nce', '--mfru'], /--nce builds SeqLSTM .* no --mfru or --bn/],
      [['--lstm', '--gru'], /--lstm, --gru and --mfru exclude each other/],
      [['--mfru', '--gru'], /--lstm, --gru and --mfru exclude each other/],
      [['--k', '5'], /--k and --Z need --nce/],
      [['--hiddensize', '{64,x}'], /--hiddensize must be a list of positive integers/],
      [['--schedule', '{[5]=-1}'], /--schedule must read like/],
      [['--seqlen', '0'], /--seqlen must be at least 1, got 0/],
      [['--batchsize', '100000'], /too few for --batchsize 100000/],
    ];
    for (const [flags, msg] of refused) {
      await expect(quietly(() => main([...tiny, ...flags, '--out', tmpDir()]))).rejects.toThrow(msg);
    }
  });
});

describe('recurrent-language-model, its parts', () => {
  it('tokenizes as the Penn Treebank files read: lower case, N for numbers, punctuation, <eos> per paragraph', () => {
    expect(tokenize("The Devil's 2 words,\nhere.\n\nNext")).toEqual([
      'the',
      "devil's",
      'N',
      'words',
      ',',
      'here',
      '.',
      EOS,
      'next',
      EOS,
    ]);
    const v = wordVocabulary(['b', 'a', 'b', 'c', 'a', 'b'], 2);
    expect(v.words).toEqual([UNK, 'b', 'a']);
    expect(Array.from(encodeWords(['a', 'c', 'b'], v))).toEqual([2, 0, 1]);
    const parts = splitThree(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'], 0.2, 0.1);
    expect(parts).toEqual({ train: ['1', '2', '3', '4', '5', '6', '7'], valid: ['8', '9'], test: ['10'] });
  });

  it('SequenceLoader cuts the ids into parallel streams; chunk k continues chunk k - 1', () => {
    const ids = Int32Array.from({ length: 23 }, (_, i) => i);
    const l = new SequenceLoader(ids, 2, 'test');
    expect(l.size).toBe(11);
    expect(l.chunks(4)).toBe(3);
    expect(l.chunks(4, 5)).toBe(2);
    const c0 = l.chunk(0, 4);
    const c2 = l.chunk(2, 4);
    // Time-major [steps, streams]: stream 0 reads 0.., stream 1 reads 11..; targets are the next ids.
    expect(Array.from(c0.x)).toEqual([0, 11, 1, 12, 2, 13, 3, 14]);
    expect(Array.from(c0.y)).toEqual([1, 12, 2, 13, 3, 14, 4, 15]);
    expect(c2.steps).toBe(3);
    expect(Array.from(c2.y)).toEqual([9, 20, 10, 21, 11, 22]);
  });

  it('early stopping waits `patience` epochs for a new minimum', () => {
    const s = new EarlyStopping(2);
    expect([5, 4, 4.5, 3, 3.5, 3.2].map((v, i) => s.record(i + 1, v))).toEqual([
      'best',
      'best',
      'wait',
      'best',
      'wait',
      'stop',
    ]);
    expect([s.best, s.bestEpoch]).toEqual([3, 4]);
  });

  it('decays the learning rate linearly to minlr, or by a schedule', () => {
    const o = { startlr: 1, minlr: 0.1, saturate: 3, schedule: null };
    expect(nextLearningRate(1, 1, o)).toBeCloseTo(0.7, 12);
    expect(nextLearningRate(0.2, 5, o)).toBe(0.1);
    const schedule = parseSchedule('{[2]=0.5, [4]=0.25}');
    expect([...schedule!]).toEqual([
      [2, 0.5],
      [4, 0.25],
    ]);
    expect(nextLearningRate(1, 1, { ...o, schedule })).toBe(1);
    expect(nextLearningRate(1, 2, { ...o, schedule })).toBe(0.5);
    expect(parseSchedule('3=0.5')!.get(3)).toBe(0.5);
    expect(parseSchedule('')).toBeNull();
    expect(parseSizes('{200,100}', 'hiddensize')).toEqual([200, 100]);
    expect(parseSizes('64', 'hiddensize')).toEqual([64]);
  });
});

const adapter = await webgpuForFile('recurrent-language-model');

describe('recurrent-language-model on WebGPU', () => {
  it.skipIf(!adapter)('--nce trains on WebGPU as on the CPU (same seed, same noise)', async () => {
    const args = [...tiny.slice(2), '--nce', '--k', '10', '--maxepoch', '1', '--trainsize', '15'];
    const cpu = (await quietly(() => main(['--backend', 'cpu', ...args, '--out', tmpDir()])))!;
    const gpu = (await quietly(() => main(['--backend', 'webgpu', ...args, '--out', tmpDir()])))!;
    expect(gpu.device).toBe('webgpu');
    expect(gpu.losses).toHaveLength(3);
    expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!)).toBeLessThan(1e-4 * Math.max(1, cpu.losses[0]!));
    expect(Math.abs(gpu.Z! - cpu.Z!) / cpu.Z!).toBeLessThan(1e-4);
    expect(Math.abs(gpu.epochs[0]!.validPerplexity / cpu.epochs[0]!.validPerplexity - 1)).toBeLessThan(1e-3);
  });

  it.skipIf(!adapter)('the softmax LSTM model trains on WebGPU as on the CPU', async () => {
    const args = [...tiny.slice(2), '--lstm', '--maxepoch', '1', '--trainsize', '15'];
    const cpu = (await quietly(() => main(['--backend', 'cpu', ...args, '--out', tmpDir()])))!;
    const gpu = (await quietly(() => main(['--backend', 'webgpu', ...args, '--out', tmpDir()])))!;
    expect(gpu.losses).toHaveLength(3);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-3 * cpu.losses[i]!));
    expect(Math.abs(gpu.testPerplexity / cpu.testPerplexity - 1)).toBeLessThan(1e-3);
  });
});
