/**
 * Element-research's examples/recurrent-language-model.lua, and with --nce its noise-contrastive-estimate.lua: a
 * word-level language model trained by truncated BPTT over parallel streams of a text (the states are remembered
 * from one chunk to the next), SGD with momentum (or Adam), the learning rate decayed linearly or by a schedule,
 * the gradients' global norm clipped (--cutoff), early stopping on the validation perplexity, and the best model
 * saved (--save) and evaluated on the test part at the end.
 *
 *   node packages/examples/dist/recurrent-language-model.js [--lstm|--gru] [--nce --k 25] [--hiddensize '{64,64}']
 *        [--seqlen 5] [--batchsize 32] [--maxepoch 5] [--earlystop 50] [--dropout 0.5] [--save F] ...   (--help)
 */
import path from 'node:path';
import { type DeviceName, optim } from '@webrnn/rnn';
import { DEFAULT_TEXT, readText } from './charLm/corpus.js';
import {
  SequenceLoader,
  type WordVocabulary,
  encodeWords,
  splitThree,
  tokenize,
  unigramPerplexity,
  wordFrequencies,
  wordVocabulary,
} from './languageModel/corpus.js';
import { type Cell, type LmConfig, buildLanguageModel, describeModel } from './languageModel/model.js';
import { OPTIONS, atLeastOne, metadata, parseAdamConfig, save } from './languageModel/options.js';
import { plotEpochs, plotLoss } from './languageModel/plots.js';
import {
  EarlyStopping,
  evaluate,
  nextLearningRate,
  parseSchedule,
  parseSizes,
  restore,
  snapshot,
  trainChunk,
} from './languageModel/train.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, stepsOf, trainingProbe } from './shared/probe.js';
import { signalsTurn, stopOnSignal } from './shared/interrupt.js';
import { Progress } from './shared/progress.js';
import { summary } from './shared/summary.js';

export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss per step: NLL per word, or NCE's loss with --nce. */
  readonly trainLoss: number;
  readonly validPerplexity: number;
  /** dpnn's validation error with --nce (NCE's loss, noise sampled as in training). */
  readonly validNce: number | null;
  readonly learningRate: number;
}

export interface LanguageModelResult {
  readonly device: DeviceName;
  readonly config: LmConfig;
  readonly vocabulary: WordVocabulary;
  /** Training loss per iteration. */
  readonly losses: number[];
  readonly epochs: EpochRecord[];
  readonly bestEpoch: number;
  readonly bestValidPerplexity: number;
  readonly testPerplexity: number;
  readonly unigramPerplexity: number;
  /** With --nce: the normalization constant (given, or estimated). */
  readonly Z: number | null;
  readonly stoppedEarly: boolean;
  readonly interrupted: boolean;
  readonly summary: string;
  readonly files: string[];
}

export const main = exampleMain({
  program: 'recurrent-language-model',
  description:
    "a word-level language model (Element-research's recurrent-language-model.lua; --nce: noise-contrastive-estimate.lua)",
  options: OPTIONS,
  settings: ({ options: o, given }) => {
    if ([o.lstm, o.gru, o.mfru].filter(Boolean).length > 1) {
      throw new Error('--lstm, --gru and --mfru exclude each other: choose one');
    }
    if (o.bn && !o.lstm) throw new Error('--bn normalises the LSTM: it needs --lstm');
    if (o.nce && (o.mfru || o.bn)) {
      throw new Error(
        '--nce builds SeqLSTM (or SeqGRU with --gru) layers, as noise-contrastive-estimate.lua: no --mfru or --bn',
      );
    }
    if (!(o.dropout < 1)) throw new Error(`--dropout must be below 1, got ${o.dropout}`);
    if (!(o.validFraction + o.testFraction < 0.5)) {
      throw new Error(
        '--valid-fraction and --test-fraction must leave at least half of the text for training',
      );
    }
    if (!o.nce && (given.has('k') || given.has('Z'))) throw new Error('--k and --Z need --nce');
    const hiddensize = parseSizes(o.hiddensize, 'hiddensize');
    const schedule = parseSchedule(o.schedule);
    const [beta1, beta2] = parseAdamConfig(o.adamconfig);
    const cell: Cell = o.gru ? 'gru' : o.mfru ? 'mfru' : o.lstm || o.nce ? 'lstm' : 'rnn';

    // The corpus: the vocabulary comes from the training part only.
    const parts = splitThree(tokenize(readText(o.data || DEFAULT_TEXT)), o.validFraction, o.testFraction);
    const vocab = wordVocabulary(parts.train, o.minCount);
    const [train, valid, test] = [parts.train, parts.valid, parts.test].map((p) => encodeWords(p, vocab)) as [
      Int32Array,
      Int32Array,
      Int32Array,
    ];
    const freq = wordFrequencies(train, vocab.words.length);
    const trainset = new SequenceLoader(train, o.batchsize, 'the training part');
    // recurrent-language-model.lua validates and tests one stream (loadPTB({batchsize, 1, 1})), the NCE example
    // as many as it trains.
    const evalBatch = o.nce ? o.batchsize : 1;
    const validset = new SequenceLoader(valid, evalBatch, 'the validation part (--valid-fraction)');
    const testset = new SequenceLoader(test, evalBatch, 'the test part (--test-fraction)');
    const trainsize =
      o.trainsize === -1 ? trainset.size : Math.min(atLeastOne(o.trainsize, 'trainsize'), trainset.size);
    const validsize =
      o.validsize === -1 ? validset.size : Math.min(atLeastOne(o.validsize, 'validsize'), validset.size);
    const config: LmConfig = {
      vocab: vocab.words.length,
      inputsize: o.inputsize === -1 ? hiddensize[0]! : atLeastOne(o.inputsize, 'inputsize'),
      hiddensize,
      cell,
      bn: o.bn,
      dropout: o.dropout,
      nce: o.nce ? { k: o.k, Z: o.Z, unigrams: freq } : null,
      uniform: o.uniform,
    };

    const corpus = { vocab, train, valid, test, freq, trainset, validset, testset, trainsize, validsize };
    return { config, schedule, betas: [beta1, beta2] as const, corpus };
  },
  probe: ({ options: o, settings: { config } }) =>
    trainingProbe(
      'recurrent-language-model',
      {
        ...config,
        hiddensize: config.hiddensize.join(','),
        nce: o.nce,
        seqlen: o.seqlen,
        batchsize: o.batchsize,
      },
      (d) => {
        const x = indices([o.seqlen, o.batchsize], config.vocab, d);
        const targets = stepsOf(o.seqlen, () => indices([o.batchsize], config.vocab, d));
        const lm = buildLanguageModel(config, d);
        return [{ model: lm.net, input: o.nce ? [x, targets] : x, owned: lm.nce ? [lm.nce] : [] }];
      },
    ),
  body: async ({
    options: o,
    settings: {
      config,
      schedule,
      betas: [beta1, beta2],
      corpus: c,
    },
    device,
    reason,
  }): Promise<LanguageModelResult> => {
    const model = buildLanguageModel(config, device);
    const params = model.net.parameters()[0];
    const optimizer = o.adam
      ? new optim.Adam(params, { learningRate: o.startlr, beta1, beta2 })
      : new optim.SGD(params, { learningRate: o.startlr, momentum: o.momentum });
    try {
      console.log(`Language Model:\n${model.net}\n`);
      console.log(
        `Vocabulary size : ${c.vocab.words.length} (words seen at least ${o.minCount} times; ${c.train.length} training, ` +
          `${c.valid.length} validation, ${c.test.length} test words)\n` +
          `Train set split into ${o.batchsize} sequences of length ${c.trainset.size}`,
      );
      const baseline = unigramPerplexity(c.freq, c.valid);
      const losses: number[] = [];
      const epochs: EpochRecord[] = [];
      const stopper = new EarlyStopping(o.earlystop);
      let best: Float32Array[] | null = null;
      let lr = o.startlr;
      let meanNorm: number | null = null;
      let iteration = 0;
      let trainSeconds = 0;
      let cursor = 0; // the next training chunk: epochs shorter than the set go on where the last one stopped
      let stoppedEarly = false;
      const latest = o.save ? o.save.replace(/(\.safetensors)?$/, '-latest$1') : '';
      const info = (epoch: number) => metadata(o, config, c.vocab, epoch, model.nce?.Z ?? null);
      const stop = stopOnSignal('training');
      try {
        for (let epoch = 1; epoch <= o.maxepoch && !stop.requested; epoch++) {
          console.log(`\nEpoch #${epoch} :`);
          model.net.training();
          const chunks = c.trainset.chunks(o.seqlen, c.trainsize);
          const progress = o.progress ? new Progress(chunks) : null;
          const started = performance.now();
          let sumErr = 0;
          let steps = 0;
          for (let i = 1; i <= chunks && !stop.requested; i++) {
            const k = cursor % c.trainset.chunks(o.seqlen);
            if (k === 0) model.net.forget(); // a new pass over the text starts the streams afresh
            cursor++;
            const chunk = c.trainset.chunk(k, o.seqlen);
            const loss = trainChunk(model, chunk, o.batchsize, device);
            if (o.cutoff > 0) {
              const norm = await optim.clipGradNormAsync(params, o.cutoff);
              meanNorm = meanNorm === null ? norm : meanNorm * 0.9 + norm * 0.1;
            }
            optimizer.step();
            const err = await loss.item();
            loss.dispose();
            sumErr += err;
            steps += chunk.steps;
            losses.push(err / chunk.steps);
            progress?.update(i, err / chunk.steps);
            iteration++;
            await signalsTurn();
            if (latest && o.saveEvery > 0 && iteration % o.saveEvery === 0) {
              await save(latest, model.net, info(epoch));
            }
          }
          trainSeconds += (performance.now() - started) / 1000;
          if (steps === 0) break; // interrupted before the first chunk
          const trainLoss = sumErr / steps;
          lr = nextLearningRate(lr, epoch, {
            startlr: o.startlr,
            minlr: o.minlr,
            saturate: o.saturate,
            schedule,
          });
          optimizer.config.learningRate = lr;
          console.log(`learning rate\t${lr}${meanNorm !== null ? `\nmean gradParam norm\t${meanNorm}` : ''}`);
          console.log(
            o.nce ? `Training error : ${trainLoss}` : `Training PPL : ${Math.exp(trainLoss)}`,
            `(${((steps * o.batchsize) / ((performance.now() - started) / 1000)).toFixed(0)} words/s)`,
          );
          const validPerplexity = Math.exp(await evaluate(model, c.validset, o.seqlen, c.validsize, device));
          const validNce = o.nce
            ? await evaluate(model, c.validset, o.seqlen, c.validsize, device, false)
            : null;
          console.log(
            `Validation PPL : ${validPerplexity}${validNce !== null ? `; NCE error : ${validNce}` : ''}`,
          );
          epochs.push({ epoch, trainLoss, validPerplexity, validNce, learningRate: lr });
          const verdict = stopper.record(epoch, validPerplexity);
          if (verdict === 'best') {
            await model.nce?.normalizationConstant(); // Z, read from the device once estimated
            best = await snapshot(params);
            if (o.save) {
              console.log(`Found new minima. Saving to ${o.save}`);
              await save(o.save, model.net, info(epoch));
            }
          } else if (verdict === 'stop') {
            console.log(`No new minima found after ${o.earlystop} epochs.\nStopping experiment.`);
            stoppedEarly = true;
            break;
          }
        }
      } finally {
        stop.dispose();
      }
      const interrupted = stop.requested;
      if (interrupted && latest) await save(latest, model.net, info(epochs.length));
      // The test perplexity of the best epoch's weights (evaluate-rnnlm.lua on the saved model).
      if (best) restore(params, best);
      const testPerplexity = Math.exp(await evaluate(model, c.testset, o.seqlen, c.testset.size, device));
      const Z = model.nce ? await model.nce.normalizationConstant() : null;

      const files = [
        ...(await plotLoss(o.out, losses, o.nce)),
        ...(epochs.length > 0 ? await plotEpochs(o.out, epochs, baseline, o.nce) : []),
      ];
      const bestEpoch = stopper.bestEpoch;
      const rows: [string, string][] = [
        ['device', `${device} (${reason})`],
        ['model', describeModel(config)],
        [
          'optimiser',
          `${o.adam ? `Adam (beta1 ${beta1}, beta2 ${beta2})` : `SGD (momentum ${o.momentum})`}, lr ${o.startlr} -> ${lr}` +
            `${o.cutoff > 0 ? `, gradients clipped to norm ${o.cutoff}` : ''}`,
        ],
        [
          'data',
          `${c.vocab.words.length} words (<unk> below ${o.minCount}); ${c.train.length} / ${c.valid.length} / ${c.test.length} ` +
            'for training / validation / test',
        ],
        [
          'training',
          `${epochs.length} epochs, ${iteration} iterations of ${o.batchsize} x ${o.seqlen} words in ` +
            `${trainSeconds.toFixed(1)} s (${((iteration * o.batchsize * o.seqlen) / Math.max(trainSeconds, 1e-9)).toFixed(0)} words/s)` +
            `${stoppedEarly ? ', stopped early' : ''}${interrupted ? ', interrupted' : ''}`,
        ],
        [
          'validation',
          bestEpoch > 0
            ? `perplexity ${stopper.best.toFixed(2)} at epoch ${bestEpoch} (unigram baseline ${baseline.toFixed(2)})`
            : `no epoch completed (unigram baseline ${baseline.toFixed(2)})`,
        ],
        [
          'test',
          `perplexity ${testPerplexity.toFixed(2)}${bestEpoch > 0 ? ` (epoch ${bestEpoch}'s weights)` : ''}`,
        ],
      ];
      if (Z !== null)
        rows.push(['NCE', `k ${o.k}, Z ${Z.toFixed(4)}${o.Z > 0 ? ' (given)' : ' (estimated)'}`]);
      if (o.save) rows.push(['saved', path.resolve(o.save)]);
      const text = summary({ title: 'recurrent-language-model', rows, outDir: o.out, files });
      return {
        device,
        config,
        vocabulary: c.vocab,
        losses,
        epochs,
        bestEpoch,
        bestValidPerplexity: stopper.best,
        testPerplexity,
        unigramPerplexity: baseline,
        Z,
        stoppedEarly,
        interrupted,
        summary: text,
        files,
      };
    } finally {
      optimizer.dispose();
      model.net.dispose();
    }
  },
});

runIfMain(import.meta.url, main);
