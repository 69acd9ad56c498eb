import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Generator, memory } from '@webrnn/rnn';
import { describe, expect, it } from 'vitest';
import { main } from '../src/char-lm.js';
import { DEFAULT_TEXT, Streams, encode, unigramPerplexity, vocabulary } from '../src/charLm/corpus.js';
import { draw } from '../src/charLm/model.js';
import { expectPlot, mean, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

// Smoke tests of the char-lm example with tiny sizes. The streams (batch and chunk length) fix the validation;
// a checkpoint brings everything else.
const streams = ['--backend', 'cpu', '--batch', '8', '--seq-length', '16', '--valid-fraction', '0.02'];
const tiny = [...streams, '--hidden', '16', '--embed', '8', '--sample-length', '40', '--eval-every', '20'];

describe('char-lm', () => {
  it('the loss falls, the validation is reported against the unigram baseline, the outputs are written', async () => {
    const out = tmpDir();
    const r = (await quietly(() => main([...tiny, '--iterations', '40', '--lr', '0.01', '--out', out])))!;
    expect(r.device).toBe('cpu');
    expect(r.losses).toHaveLength(40);
    // From about ln(vocabulary) (a uniform guess) to clearly less.
    expect(r.losses[0]).toBeGreaterThan(0.9 * Math.log(r.config.vocab));
    expect(mean(r.losses.slice(-10))).toBeLessThan(0.85 * mean(r.losses.slice(0, 10)));
    expect(r.validations.map((v) => v.iteration)).toEqual([0, 20, 40]);
    expect(r.validations.at(-1)!.loss).toBeLessThan(r.validations[0]!.loss);
    expect(r.validPerplexity).toBeCloseTo(Math.exp(r.validations.at(-1)!.loss), 10);
    expect(r.unigramPerplexity).toBeGreaterThan(10);
    expect(r.sample).toHaveLength(40);
    expectPlot(path.join(out, 'loss'));
    expect(readFileSync(path.join(out, 'sample.txt'), 'utf8')).toBe(`\n${r.sample}`);
    expect(r.summary).toMatch(/validation +perplexity [\d.]+/);
    expect(r.summary).toMatch(/unigram baseline +perplexity [\d.]+/);
    expect(r.summary).toMatch(/training +40 iterations .* it\/s, \d+ characters\/s/);
    expect(r.summary).toContain(path.resolve(out));
  });

  it('--cell gru trains SeqGRU layers', async () => {
    const r = (await quietly(() =>
      main([
        ...tiny,
        '--cell',
        'gru',
        '--layers',
        '1',
        '--iterations',
        '30',
        '--lr',
        '0.01',
        '--out',
        tmpDir(),
      ]),
    ))!;
    expect(r.config.cell).toBe('gru');
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)));
  });

  it('a checkpoint round-trips: sampling from it gives the trained model its text; training resumes', async () => {
    const out = tmpDir();
    const file = path.join(out, 'ckpt', 'model.safetensors');
    const sampling = ['--temperature', '0.9', '--prime', 'AB', '--sample-length', '40'];
    const trained = (await quietly(() =>
      main([...tiny, ...sampling, '--seed', '7', '--iterations', '20', '--save', file, '--out', out]),
    ))!;
    // The sizes come from the checkpoint (none given here); --sample-only neither trains nor plots.
    const sampleFrom = async (seed: number) =>
      (await quietly(() =>
        main([
          ...streams,
          ...sampling,
          '--seed',
          String(seed),
          '--resume',
          file,
          '--sample-only',
          '--out',
          tmpDir(),
        ]),
      ))!;
    const loaded = await sampleFrom(7);
    expect(loaded.config).toEqual(trained.config);
    expect(loaded.losses).toEqual([]);
    expect(loaded.files.map((f) => path.basename(f))).toEqual(['sample.txt']);
    expect(loaded.sample).toBe(trained.sample);
    expect(loaded.validPerplexity).toBeCloseTo(trained.validPerplexity, 6);
    // Another seed samples other text from the same weights.
    expect((await sampleFrom(8)).sample).not.toBe(trained.sample);
    // Resuming training continues the count from the saved weights (not from scratch).
    const resumed = (await quietly(() =>
      main([...tiny, '--iterations', '5', '--resume', file, '--out', tmpDir()]),
    ))!;
    expect(resumed.iterations).toBe(25);
    expect(resumed.validations[0]!.iteration).toBe(20);
    expect(resumed.validations[0]!.loss).toBeCloseTo(trained.validations.at(-1)!.loss, 6);
    await expect(main([...tiny, '--hidden', '32', '--resume', file])).rejects.toThrow(
      "--hidden 32 differs from the checkpoint's 16",
    );
  });

  it('Ctrl-C stops after the iteration in progress: the checkpoint, plots and summary are still written', async () => {
    const out = tmpDir();
    const file = path.join(out, 'model.safetensors');
    const listeners = process.listenerCount('SIGINT');
    let iterationsAtSignal = -1;
    const timer = setTimeout(() => {
      iterationsAtSignal = 0;
      process.emit('SIGINT', 'SIGINT');
    }, 2500);
    const r = (await quietly(() =>
      main([...tiny, '--iterations', '100000', '--save', file, '--save-every', '3', '--out', out]),
    ))!;
    clearTimeout(timer);
    expect(iterationsAtSignal).toBe(0); // the signal came, training did not run to its end
    expect(r.losses.length).toBeGreaterThan(0);
    expect(r.losses.length).toBeLessThan(100000);
    expect(r.iterations).toBe(r.losses.length);
    expect(r.validations.at(-1)!.iteration).toBe(r.iterations);
    expectPlot(path.join(out, 'loss'));
    expect(r.summary).toMatch(new RegExp(`training +${r.iterations} iterations`));
    // The checkpoint holds the weights at the stop: resuming counts on from there.
    const resumed = (await quietly(() =>
      main([...tiny, '--iterations', '2', '--resume', file, '--out', tmpDir()]),
    ))!;
    expect(resumed.iterations).toBe(r.iterations + 2);
    expect(resumed.validations[0]!.loss).toBeCloseTo(r.validations.at(-1)!.loss, 6);
    // The signal handlers are gone: nothing of ours listens any more.
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('leaves no tensors behind (training, validation and sampling free what they make)', async () => {
    const before = memory().tensors;
    await quietly(() => main([...tiny, '--iterations', '3', '--eval-every', '2', '--out', tmpDir()]));
    expect(memory().tensors).toBe(before);
  });

  it('--help returns null; bad options are refused with their name', async () => {
    expect(await quietly(() => main(['--help']))).toBeNull();
    await expect(main(['--cell', 'rnn'])).rejects.toThrow('--cell must be one of lstm, gru');
    await expect(main(['--sample-only'])).rejects.toThrow('--sample-only needs a checkpoint');
    await expect(main(['--temperature=-1'])).rejects.toThrow('--temperature must be 0 or more');
    await expect(main(['--prime', '\u00e9'])).rejects.toThrow(/--prime: character "\u00e9" at position 0/);
    await expect(main(['--resume', '/nonexistent/x.safetensors'])).rejects.toThrow('--resume: cannot read');
  });
});

const adapter = await webgpuForFile('char-lm');

describe('char-lm on WebGPU', () => {
  it.skipIf(!adapter)(
    'trains with gradient clipping, validates and samples; its first loss is the CPU one',
    async () => {
      const args = [...tiny.slice(2), '--iterations', '20', '--lr', '0.01', '--clip', '0.5'];
      const cpu = (await quietly(() => main(['--backend', 'cpu', ...args, '--out', tmpDir()])))!;
      const gpu = (await quietly(() => main(['--backend', 'webgpu', ...args, '--out', tmpDir()])))!;
      expect(gpu.device).toBe('webgpu');
      expect(gpu.losses).toHaveLength(20);
      expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!)).toBeLessThan(1e-4 * Math.max(1, cpu.losses[0]!));
      expect(mean(gpu.losses.slice(-5))).toBeLessThan(mean(gpu.losses.slice(0, 5)));
      expect(gpu.validations.map((v) => v.iteration)).toEqual([0, 20]);
      expect(gpu.sample).toHaveLength(40);
    },
  );
});

describe('char-lm data', () => {
  it('the shipped text is ASCII prose of a few hundred KB', () => {
    const text = readFileSync(DEFAULT_TEXT, 'utf8');
    expect(text.length).toBeGreaterThan(200_000);
    expect(text.length).toBeLessThan(300_000);
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text).toContain("THE DEVIL'S DICTIONARY");
  });

  it('streams: chunk k continues chunk k - 1 in every stream, targets are the next characters', () => {
    const ids = Int32Array.from({ length: 23 }, (_, i) => i);
    const s = new Streams(ids, 3, 3, 'test');
    expect([s.length, s.chunks, s.predicted]).toEqual([7, 3, 21]);
    const c0 = s.chunk(0);
    expect(Array.from(c0.x)).toEqual([0, 7, 14, 1, 8, 15, 2, 9, 16]); // [T, N], time-major
    expect(Array.from(c0.y)).toEqual(Array.from(c0.x, (v) => v + 1));
    const c2 = s.chunk(2);
    expect(c2.steps).toBe(1); // the last, shorter chunk
    expect(Array.from(c2.x)).toEqual([6, 13, 20]);
    expect(() => new Streams(ids, 30, 3, 'the text')).toThrow(/the text: 23 characters are too few for 30/);
  });

  it('the unigram baseline is the vocabulary size for uniform text, less for skewed text', () => {
    const v = vocabulary('abcd');
    const uniform = encode('abcd'.repeat(50), v, 'test');
    expect(unigramPerplexity(uniform, uniform, 4)).toBeCloseTo(4, 6);
    const skewed = encode('aaab'.repeat(50), v, 'test');
    expect(unigramPerplexity(skewed, skewed, 4)).toBeLessThan(2.5);
  });

  it('draw: temperature 0 is the arg max; a low temperature sharpens, a high one flattens', () => {
    const scores = [0, 1, 2];
    const g = new Generator(3);
    expect(draw(scores, 0, g)).toBe(2);
    const freq = (t: number) => {
      let top = 0;
      for (let i = 0; i < 2000; i++) if (draw(scores, t, g) === 2) top++;
      return top / 2000;
    };
    const p2 = Math.exp(2) / (1 + Math.E + Math.exp(2)); // softmax at temperature 1: 0.665
    expect(freq(1)).toBeCloseTo(p2, 1);
    expect(freq(0.25)).toBeGreaterThan(0.95);
    expect(freq(10)).toBeLessThan(0.45);
  });
});
