/**
 * A character-level language model, as Karpathy's char-rnn (on Element-research's whole-sequence layers):
 *
 *   LookupTable(V, E) -> SeqLSTM(E, H) -> SeqLSTM(H, H) -> View(-1, H) -> Linear(H, V)
 *
 * with the cross-entropy of every step, trained by truncated BPTT over consecutive chunks of the text: the text is
 * cut into `batch` parallel streams, each forward reads the next `seq-length` characters of every stream, and the
 * layers `remember('both')` their states from one chunk to the next. Gradients are clipped by their global norm
 * and Adam (or RMSprop) updates the weights. The tail of the text is held out: the validation perplexity is
 * reported against the unigram baseline (character frequencies alone). Then it samples text with a temperature.
 * --save writes a checkpoint (safetensors: weights, optimiser state, vocabulary and sizes); --resume continues
 * from one, or with --sample-only just samples from it.
 *
 *   node packages/examples/dist/char-lm.js [--cell lstm|gru] [--hidden H] [--iterations N] [--save F] ...   (--help)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type DeviceName, nn, optim, tidy } from '@webrnn/rnn';
import { type Checkpoint, loadCheckpoint, readCheckpoint, saveCheckpoint } from './charLm/checkpoint.js';
import {
  DEFAULT_TEXT,
  Streams,
  decode,
  encode,
  readText,
  split,
  unigramPerplexity,
  vocabulary,
} from './charLm/corpus.js';
import {
  type ModelConfig,
  buildModel,
  evaluateLoss,
  forget,
  sample,
  trainStep,
  update,
} from './charLm/model.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, trainingProbe } from './shared/probe.js';
import { atLeast } from './shared/cli.js';
import { lineChart, smoothed } from './shared/plot.js';
import { Progress } from './shared/progress.js';
import { signalsTurn, stopOnSignal } from './shared/interrupt.js';
import { meanOf, summary } from './shared/summary.js';

// The defaults train in about a minute on two CPU cores (a little over one pass over the text) and end well
// below the unigram baseline. char-rnn's settings are flags away: --hidden 128 --seq-length 50 --batch 50
// --optim rmsprop --lr 0.002, with thousands of iterations (--iterations 5000 is about 50 passes).
const OPTIONS = {
  data: {
    type: 'string',
    default: '',
    help: "text file to learn (default: Bierce's Devil's Dictionary, A-Q)",
  },
  validFraction: { type: 'number', default: 0.05, help: 'held-out tail of the text, for the validation' },
  cell: {
    type: 'string',
    default: 'lstm',
    choices: ['lstm', 'gru'],
    help: 'layers: lstm (SeqLSTM) or gru (SeqGRU)',
  },
  layers: { type: 'int', default: 2, help: 'recurrent layers' },
  embed: { type: 'int', default: 16, help: 'size of the character embeddings' },
  hidden: { type: 'int', default: 64, help: 'units of each recurrent layer' },
  seqLength: { type: 'int', default: 32, help: 'characters per chunk: the steps of truncated BPTT' },
  batch: { type: 'int', default: 32, help: 'parallel streams of text (chunks per iteration)' },
  iterations: {
    type: 'int',
    default: 250,
    min: 1,
    help: 'training iterations (one chunk of every stream each)',
  },
  optim: { type: 'string', default: 'adam', choices: ['adam', 'rmsprop'], help: 'optimiser' },
  lr: { type: 'number', default: 0.005, above: 0, help: 'learning rate' },
  saveEvery: {
    type: 'int',
    default: 0,
    min: 0,
    help: 'with --save: also save every N iterations (0: at the end only; Ctrl-C saves too)',
  },
  clip: { type: 'number', default: 5, help: 'largest global norm of the gradients' },
  evalEvery: { type: 'int', default: 50, help: 'iterations between validations' },
  sampleLength: { type: 'int', default: 400, help: 'characters to sample at the end' },
  temperature: { type: 'number', default: 0.7, help: 'sampling temperature (0: always the likeliest)' },
  prime: { type: 'string', default: '', help: 'text to start the sample from (default: a new line)' },
  save: { type: 'string', default: '', help: 'write a checkpoint to this file at the end (.safetensors)' },
  resume: {
    type: 'string',
    default: '',
    help: 'start from this checkpoint (weights, optimiser, vocabulary)',
  },
  sampleOnly: { type: 'boolean', help: 'with --resume: no training, only validate and sample' },
} as const;

/** The options that fix the model's shape: a checkpoint's values win, and a different value given is refused. */
const SHAPE = ['cell', 'layers', 'embed', 'hidden'] as const;

export interface CharLmResult {
  readonly device: DeviceName;
  readonly config: ModelConfig;
  /** Training loss (nats per character) per iteration of this run. */
  readonly losses: number[];
  /** Iterations done in all, resumed ones included. */
  readonly iterations: number;
  /** Validation loss (nats per character) at each validation. */
  readonly validations: { iteration: number; loss: number }[];
  readonly validPerplexity: number;
  readonly unigramPerplexity: number;
  readonly sample: string;
  readonly itPerSecond: number;
  readonly charsPerSecond: number;
  readonly summary: string;
  readonly files: string[];
}

export const main = exampleMain({
  program: 'char-lm',
  description: 'a character-level language model (LSTM/GRU) trained on a text',
  options: OPTIONS,
  settings: async ({ options: o, given }) => {
    const s = {
      layers: atLeast(o.layers, 1, 'layers'),
      embed: atLeast(o.embed, 1, 'embed'),
      hidden: atLeast(o.hidden, 1, 'hidden'),
      seqLength: atLeast(o.seqLength, 1, 'seqLength'),
      batch: atLeast(o.batch, 1, 'batch'),
      iterations: o.sampleOnly ? 0 : atLeast(o.iterations, 1, 'iterations'),
      evalEvery: atLeast(o.evalEvery, 1, 'evalEvery'),
      sampleLength: atLeast(o.sampleLength, 1, 'sampleLength'),
    };
    if (!(o.validFraction > 0 && o.validFraction < 1)) {
      throw new Error(`--valid-fraction must be between 0 and 1, got ${o.validFraction}`);
    }
    if (!(o.temperature >= 0)) throw new Error(`--temperature must be 0 or more, got ${o.temperature}`);
    if (!(o.clip > 0)) throw new Error(`--clip must be positive, got ${o.clip}`);
    if (o.sampleOnly && !o.resume)
      throw new Error('--sample-only needs a checkpoint to sample from: --resume FILE');

    // The checkpoint first: it fixes the vocabulary and the model's shape.
    const checkpoint: Checkpoint | null = o.resume ? await readCheckpoint(o.resume) : null;
    if (checkpoint) {
      for (const key of SHAPE) {
        const saved = checkpoint.info[key];
        if (given.has(key) && o[key] !== saved) {
          throw new Error(`--${key} ${o[key]} differs from the checkpoint's ${saved} (${o.resume})`);
        }
      }
    }
    const text = readText(o.data || DEFAULT_TEXT);
    const vocab = vocabulary(checkpoint ? checkpoint.info.chars : text);
    const ids = encode(text, vocab, o.data || 'the text');
    const { train, valid } = split(ids, o.validFraction);
    const trainStreams = new Streams(train, s.batch, s.seqLength, 'the training text');
    // The held-out tail in as many streams as fit, each at least one chunk long where the text allows.
    const validBatch = Math.max(1, Math.min(s.batch, Math.floor((valid.length - 1) / s.seqLength)));
    const validStreams = new Streams(
      valid,
      validBatch,
      s.seqLength,
      'the validation text (--valid-fraction)',
    );
    const prime = o.prime || '\n';
    const primeIds = encode(prime, vocab, '--prime');
    const config: ModelConfig = checkpoint
      ? {
          vocab: vocab.chars.length,
          cell: checkpoint.info.cell,
          layers: checkpoint.info.layers,
          embed: checkpoint.info.embed,
          hidden: checkpoint.info.hidden,
        }
      : {
          vocab: vocab.chars.length,
          cell: o.cell as 'lstm' | 'gru',
          layers: s.layers,
          embed: s.embed,
          hidden: s.hidden,
        };
    const optimName = checkpoint && !given.has('optim') ? checkpoint.info.optim : o.optim;

    const corpus = { vocab, ids, train, valid, trainStreams, validStreams, prime, primeIds };
    return { s, checkpoint, config, optimName, corpus };
  },
  probe: ({ settings: { s, config } }) =>
    trainingProbe('char-lm', { ...config, batch: s.batch, seqLength: s.seqLength }, (d) => [
      { model: buildModel(config, d).net, input: indices([s.seqLength, s.batch], config.vocab, d) },
    ]),
  body: async ({
    options: o,
    given,
    settings: { s, checkpoint, config, optimName, corpus: c },
    device,
    reason,
  }): Promise<CharLmResult> => {
    const model = buildModel(config, device);
    const params = model.net.parameters()[0];
    const optimizer =
      optimName === 'rmsprop'
        ? new optim.RMSprop(params, { learningRate: o.lr })
        : new optim.Adam(params, { learningRate: o.lr });
    try {
      let done = 0;
      if (checkpoint) {
        // The optimiser's state (Adam's moments) only when training goes on with the same kind of optimiser.
        const withOptimizer = !o.sampleOnly && optimName === checkpoint.info.optim;
        loadCheckpoint(checkpoint, model.net, withOptimizer ? optimizer : undefined);
        // Loading restores the saved config (its learning rate); a rate given now wins.
        if (given.has('lr') || !withOptimizer) optimizer.config.learningRate = o.lr;
        done = checkpoint.info.iterations;
        console.log(`resumed from ${o.resume}: ${done} iterations done`);
      }
      console.log(`${model.net}\n`);
      const baseline = unigramPerplexity(c.train, c.valid, c.vocab.chars.length);
      console.log(
        `text: ${c.ids.length} characters, ${c.vocab.chars.length} distinct; ${c.train.length} for training, ` +
          `${c.valid.length} held out (unigram perplexity ${baseline.toFixed(2)})`,
      );

      const criterion = new nn.CrossEntropyCriterion();
      const validations = [
        { iteration: done, loss: await evaluateLoss(model, criterion, c.validStreams, device) },
      ];
      const losses: number[] = [];
      let trainSeconds = 0;
      // Iterations run in this invocation: all of them, or fewer after Ctrl-C (everything below reports these).
      let ran = 0;
      const info = () => ({
        ...config,
        chars: [...c.vocab.chars],
        optim: optimName as 'adam' | 'rmsprop',
        iterations: done + ran,
      });
      if (s.iterations > 0) {
        const progress = new Progress(s.iterations);
        const stop = stopOnSignal('training');
        try {
          for (let i = 1; i <= s.iterations && !stop.requested; i++) {
            const started = performance.now();
            const iteration = done + i;
            const k = (iteration - 1) % c.trainStreams.chunks;
            model.net.training();
            if (k === 0) forget(model); // a new pass over the text starts the streams afresh
            const chunk = c.trainStreams.chunk(k);
            const loss = tidy(() => {
              optimizer.zeroGrad();
              return trainStep(model, criterion, chunk, s.batch, device);
            });
            await update(params, optimizer, o.clip);
            losses.push(await loss.item());
            loss.dispose();
            trainSeconds += (performance.now() - started) / 1000;
            progress.update(i, losses.at(-1)!);
            ran = i;
            await signalsTurn();
            if (i % s.evalEvery === 0 || i === s.iterations) {
              validations.push({
                iteration,
                loss: await evaluateLoss(model, criterion, c.validStreams, device),
              });
            }
            if (o.save && o.saveEvery > 0 && i % o.saveEvery === 0 && i < s.iterations) {
              await saveCheckpoint(o.save, model.net, optimizer, info());
            }
          }
        } finally {
          stop.dispose();
        }
        if (ran < s.iterations) {
          console.log(`interrupted after ${ran} of ${s.iterations} iterations`);
          if (validations.at(-1)!.iteration !== done + ran) {
            validations.push({
              iteration: done + ran,
              loss: await evaluateLoss(model, criterion, c.validStreams, device),
            });
          }
        }
        done += ran;
      }

      const started = performance.now();
      const sampled = decode(
        await sample(model, device, {
          prime: c.primeIds,
          length: s.sampleLength,
          temperature: o.temperature,
          seed: o.seed,
        }),
        c.vocab,
      );
      const sampleSeconds = (performance.now() - started) / 1000;
      console.log(`\nsample (temperature ${o.temperature}, seed ${o.seed}):\n${c.prime}${sampled}\n`);

      const files = ran > 0 ? await plot(o.out, config, losses, done - ran, validations, baseline) : [];
      const sampleFile = path.join(o.out, 'sample.txt');
      mkdirSync(o.out, { recursive: true });
      writeFileSync(sampleFile, c.prime + sampled);
      files.push(sampleFile);
      if (o.save) await saveCheckpoint(o.save, model.net, optimizer, { ...info(), iterations: done });

      const validLoss = validations.at(-1)!.loss;
      const itPerSecond = ran / Math.max(trainSeconds, 1e-9);
      const charsPerSecond = itPerSecond * s.batch * s.seqLength;
      const rows: [string, string][] = [
        ['device', `${device} (${reason})`],
        [
          'model',
          `LookupTable(${config.vocab}, ${config.embed}) -> ${config.layers} x Seq${config.cell === 'gru' ? 'GRU' : 'LSTM'}(${config.hidden}) -> Linear(${config.hidden}, ${config.vocab}); ${optimName} lr ${optimizer.config.learningRate}, clip ${o.clip}`,
        ],
      ];
      if (ran > 0) {
        rows.push(
          [
            'training',
            `${ran} iterations of ${s.batch} x ${s.seqLength} characters in ${trainSeconds.toFixed(1)} s ` +
              `(${itPerSecond.toFixed(1)} it/s, ${Math.round(charsPerSecond)} characters/s)`,
          ],
          [
            'loss',
            `${meanOf(losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(losses, 10, 'last').toFixed(3)} (last 10), nats per character`,
          ],
        );
      }
      rows.push(
        [
          'validation',
          `perplexity ${Math.exp(validLoss).toFixed(2)} (loss ${validLoss.toFixed(3)}, ${(validLoss / Math.LN2).toFixed(2)} bits per character) after ${done} iterations; ` +
            `${Math.exp(validations[0]!.loss).toFixed(2)} before this run`,
        ],
        ['unigram baseline', `perplexity ${baseline.toFixed(2)} (character frequencies alone)`],
        [
          'sampling',
          `${s.sampleLength} characters in ${sampleSeconds.toFixed(1)} s (temperature ${o.temperature})`,
        ],
      );
      if (o.save) rows.push(['checkpoint', path.resolve(o.save)]);
      const text = summary({ title: 'char-lm', rows, outDir: o.out, files });
      return {
        device,
        config,
        losses,
        iterations: done,
        validations,
        validPerplexity: Math.exp(validLoss),
        unigramPerplexity: baseline,
        sample: sampled,
        itPerSecond,
        charsPerSecond,
        summary: text,
        files,
      };
    } finally {
      optimizer.dispose();
      model.net.dispose();
    }
  },
});

/** The loss curve: training loss per iteration (with its moving average), the validation loss, the baseline. */
async function plot(
  out: string,
  c: ModelConfig,
  losses: number[],
  first: number,
  validations: { iteration: number; loss: number }[],
  baseline: number,
): Promise<string[]> {
  const xs = losses.map((_, i) => first + i + 1);
  const cell = c.cell === 'gru' ? 'SeqGRU' : 'SeqLSTM';
  return lineChart(
    {
      title: `char-lm: cross-entropy per character (${c.layers} x ${cell}(${c.hidden}))`,
      xLabel: 'iteration',
      yLabel: 'loss (nats per character)',
      xFromZero: true,
      series: [
        ...smoothed('training', losses, xs),
        { name: 'validation', xs: validations.map((v) => v.iteration), ys: validations.map((v) => v.loss) },
        // What character frequencies alone achieve: the plateau the model leaves once it learns more.
        {
          name: 'unigram baseline (validation)',
          xs: [first, first + losses.length],
          ys: [baseline, baseline].map(Math.log),
          dashed: true,
        },
      ],
    },
    path.join(out, 'loss'),
  );
}

runIfMain(import.meta.url, main);
