import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { io, type nn } from '@webrnn/rnn';
import type { WordVocabulary } from './corpus.js';
import type { LmConfig } from './model.js';

/** recurrent-language-model's command line, and what it saves with a model. */

// Element-research's option names and defaults, except where noted: smaller sizes and fewer epochs, so that the
// defaults train in minutes on two CPU cores, and the learning rate and clipping of the example's own PTB command
// line (--startlr 1 --cutoff 5), with which a few epochs beat the unigram baseline (its defaults barely reach it).
export const OPTIONS = {
  data: {
    type: 'string',
    default: '',
    help: "text file (default: Bierce's Devil's Dictionary A-Q, from Debian's dict-devil)",
  },
  minCount: { type: 'int', default: 3, min: 1, help: 'words seen fewer times in training become <unk>' },
  validFraction: { type: 'number', default: 0.05, above: 0, help: 'part of the text for validation' },
  testFraction: { type: 'number', default: 0.05, above: 0, help: 'part of the text for the final test' },
  startlr: { type: 'number', default: 1, above: 0, help: 'learning rate at t=0 (theirs: 0.05)' },
  minlr: { type: 'number', default: 0.00001, min: 0, help: 'minimum learning rate' },
  saturate: { type: 'int', default: 400, min: 1, help: 'epoch at which linear decayed LR will reach minlr' },
  schedule: { type: 'string', default: '', help: "learning rate schedule, e.g. '{[5]=0.004,[6]=0.001}'" },
  momentum: { type: 'number', default: 0.9, min: 0, help: 'momentum (SGD)' },
  adam: { type: 'boolean', help: 'use Adam instead of SGD as optimizer' },
  adamconfig: { type: 'string', default: '{0, 0.999}', help: 'Adam hyper-parameters beta1 and beta2' },
  cutoff: {
    type: 'number',
    default: 5,
    help: 'max l2-norm of all gradients together (<= 0: no clipping; theirs: -1)',
  },
  maxepoch: { type: 'int', default: 5, min: 1, help: 'maximum number of epochs to run (theirs: 1000)' },
  earlystop: { type: 'int', default: 50, min: 1, help: 'epochs to wait for a new validation minimum' },
  progress: { type: 'boolean', help: 'print the progress of each epoch' },
  uniform: {
    type: 'number',
    default: 0.1,
    help: 'initialize parameters uniformly in [-uniform, uniform] (<= 0: default)',
  },
  lstm: { type: 'boolean', help: 'use Long Short Term Memory (nn.FastLSTM; SeqLSTM with --nce)' },
  gru: { type: 'boolean', help: 'use Gated Recurrent Units (nn.GRU; SeqGRU with --nce)' },
  mfru: { type: 'boolean', help: 'use Multi-function Recurrent Units (nn.MuFuRu)' },
  bn: { type: 'boolean', help: "recurrent batch normalization of the LSTM (with --lstm: FastLSTM's bn)" },
  seqlen: { type: 'int', default: 5, min: 1, help: 'steps of truncated back-propagation through time' },
  inputsize: { type: 'int', default: -1, min: -1, help: 'size of the word embeddings (-1: hiddensize[1])' },
  hiddensize: {
    type: 'string',
    default: '{64}',
    help: "units of each recurrent layer, e.g. '{64,64}' (theirs: {200})",
  },
  dropout: { type: 'number', default: 0, min: 0, help: 'dropout probability after each rnn layer (0: none)' },
  batchsize: { type: 'int', default: 32, min: 1, help: 'number of parallel streams (examples per batch)' },
  trainsize: { type: 'int', default: -1, min: -1, help: 'training steps per stream in an epoch (-1: all)' },
  validsize: { type: 'int', default: -1, min: -1, help: 'validation steps per stream (-1: all)' },
  nce: { type: 'boolean', help: "noise-contrastive estimation: noise-contrastive-estimate.lua's model" },
  k: { type: 'int', default: 25, min: 1, help: 'with --nce: noise samples per step' },
  Z: {
    type: 'number',
    default: -1,
    help: 'with --nce: normalization constant (-1: estimated from the first batch)',
  },
  save: { type: 'string', default: '', help: 'save the model to this file at each new validation minimum' },
  saveEvery: {
    type: 'int',
    default: 0,
    min: 0,
    help: 'with --save: also save the latest model every N iterations to F-latest (Ctrl-C does too)',
  },
} as const;

/** io.saveModule into a folder made if needed. */
export async function save(file: string, net: nn.Module, meta: ReturnType<typeof metadata>): Promise<void> {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await io.saveModule(file, net, meta);
}

export function atLeastOne(v: number, name: string): number {
  if (v < 1) throw new Error(`--${name} must be -1 or at least 1, got ${v}`);
  return v;
}

export function parseAdamConfig(text: string): [number, number] {
  const vs = text
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .split(',')
    .map(Number);
  if (vs.length !== 2 || vs.some((v) => !(v >= 0 && v < 1))) {
    throw new Error(`--adamconfig must be two numbers in [0, 1) such as '{0, 0.999}', got '${text}'`);
  }
  return vs as [number, number];
}

/** What a saved model needs to be rebuilt and used: the options, the vocabulary, the epoch and Z. */
export function metadata(
  o: Record<string, unknown>,
  c: LmConfig,
  vocab: WordVocabulary,
  epoch: number,
  Z: number | null,
) {
  return {
    program: 'recurrent-language-model',
    epoch,
    cell: c.cell,
    bn: c.bn,
    inputsize: c.inputsize,
    hiddensize: [...c.hiddensize],
    dropout: c.dropout,
    nce: c.nce ? { k: c.nce.k, Z } : null,
    words: [...vocab.words],
    options: JSON.parse(JSON.stringify(o)) as Record<string, string | number | boolean>,
  };
}
