/**
 * Element-research's examples/simple-bisequencer-network-variable.lua: a bidirectional LSTM over sequences of
 * variable length (right-padded with 0), with masks. One LookupTableMaskZero is shared by both directions:
 *
 *   fwdSeq = Sequencer(Sequential(lookup, FastLSTM(H, H):maskZero(1)))
 *   bwdSeq = Sequencer(Sequential(lookup:sharedClone(), FastLSTM(H, H):maskZero(1)))
 *   brnn   = Sequential(ParallelTable(fwdSeq, bwdSeq), ZipTable, Sequencer(JoinTable(1, 1)))
 *   rnn    = Sequential(brnn, Sequencer(MaskZero(Linear(2H, nIndex), 1)), Sequencer(MaskZero(LogSoftMax, 1)))
 *   criterion = SequencerCriterion(MaskZeroCriterion(ClassNLLCriterion, 1))
 *
 * The input is {inputs, inputs reversed} (both right-padded); the task is the counting sequence's next item, the
 * accuracy is counted on the real steps only. As in the script, step t of the backward RNN has read the sample's
 * last t+1 words, and ZipTable pairs it with step t of the forward RNN.
 *
 *   node packages/examples/dist/simple-bisequencer-network-variable.js [--max-iter N] ...   (--help)
 */
import path from 'node:path';
import { type DeviceName, type Tensor, argmax, nn, stack, tensor } from '@webrnn/rnn';
import { VariableCounting } from './simple-bisequencer-network-variable/data.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, stepsOf, trainingProbe, sizesOf } from './shared/probe.js';
import { tokens } from './shared/countingSequence.js';
import { lineChart, lossChart, smoothed } from './shared/plot.js';
import { meanOf, pct, summary, trainingRow } from './shared/summary.js';
import { trainLoop } from './shared/trainLoop.js';

// The script's hyper-parameters are the defaults (its seed is torch.manualSeed(0); --seed here).
const OPTIONS = {
  maxIter: { type: 'int', default: 100, min: 1, help: 'training iterations (Lua: maxIter 100)' },
  batch: { type: 'int', default: 8, min: 1, help: 'sequences per iteration (Lua: batchSize 8)' },
  rho: { type: 'int', default: 10, min: 1, help: 'longest sequence (Lua: 10)' },
  hidden: { type: 'int', default: 5, min: 1, help: 'hidden size of each direction (Lua: hiddenSize 5)' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (Lua: 0.1)' },
} as const;

/** The items of the counting sequence (nIndex 10, fixed by the data set). */
const nIndex = 10;

export interface VariableBiSequencerResult {
  readonly device: string;
  readonly losses: number[];
  /** Accuracy of each iteration's batch on its real steps (the script's ACC). */
  readonly accuracies: number[];
  readonly stopped: boolean;
  readonly summary: string;
  readonly files: string[];
}

export function buildModel(hidden: number): nn.Sequential {
  const sharedLookupTable = new nn.LookupTableMaskZero(nIndex, hidden);
  // forward rnn
  const fwd = new nn.Sequential().add(sharedLookupTable).add(new nn.FastLSTM(hidden, hidden).maskZero(1));
  // internally, fwd is wrapped into a Recursor to make it an AbstractRecurrent instance
  const fwdSeq = new nn.Sequencer(fwd);
  // backward rnn (applied to the reversed input sequence)
  const bwd = new nn.Sequential()
    .add(sharedLookupTable.sharedClone())
    .add(new nn.FastLSTM(hidden, hidden).maskZero(1));
  const bwdSeq = new nn.Sequencer(bwd);
  // merges the output of one time-step of fwd and bwd rnns
  const mergeSeq = new nn.Sequencer(new nn.JoinTable(0, 1));
  // Two input sequences are given (original and reverse, both right-padded): ParallelTable, not ConcatTable.
  const brnn = new nn.Sequential()
    .add(new nn.ParallelTable().add(fwdSeq).add(bwdSeq))
    .add(new nn.ZipTable())
    .add(mergeSeq);
  return new nn.Sequential()
    .add(brnn)
    .add(new nn.Sequencer(new nn.MaskZero(new nn.Linear(hidden * 2, nIndex), 1))) // times two due to JoinTable
    .add(new nn.Sequencer(new nn.MaskZero(new nn.LogSoftMax(), 1)));
}

export const main = exampleMain({
  program: 'simple-bisequencer-network-variable',
  description:
    "Element-research's simple-bisequencer-network-variable.lua: a masked BLSTM over variable-length sequences",
  options: OPTIONS,
  probe: ({ options: o }) => {
    // The probe's tokens are 1..9 (0 is the padding that LookupTableMaskZero masks).
    const tokensOn = (d: DeviceName) => stepsOf(o.rho, () => indices([o.batch], nIndex - 1, d, 1));
    return trainingProbe(
      'simple-bisequencer-network-variable',
      sizesOf(o, ['hidden', 'rho', 'batch']),
      (d) => [{ model: buildModel(o.hidden).to(d), input: [tokensOn(d), tokensOn(d)] }],
    );
  },
  body: async ({ options: o, device, reason }): Promise<VariableBiSequencerResult> => {
    const rnn = buildModel(o.hidden).to(device);
    console.log(`${rnn}\n`);
    const data = new VariableCounting(o.batch, o.rho);
    const criterion = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
    // The padded steps, as an explicit mask on the CPU (the lengths are fixed for the run): the script's
    // MaskZeroCriterion finds the zero rows itself, which needs to read the outputs on the host; on WebGPU it can't.
    const padding = Array.from({ length: o.rho }, (_, t) => data.maxStep.map((_, j) => data.padded(t, j)));
    criterion.setZeroMask(
      tensor(Int32Array.from(padding.flat(), Number), { shape: [o.rho, o.batch], dtype: 'int32' }),
    );
    const real = tensor(
      Int32Array.from(padding.flat(), (p) => (p ? 0 : 1)),
      {
        shape: [o.rho, o.batch],
        dtype: 'int32',
        device,
      },
    );
    const nReal = padding.flat().filter((p) => !p).length;

    rnn.training();
    const r = await trainLoop('training', o.maxIter, () => {
      // 1. create a sequence of rho time-steps, padded, and its reverse
      const batch = data.next();
      const input = [steps(batch.inputs, device), steps(batch.inputsRev, device)];
      // ClassNLLCriterion's classes are 0-based: token - 1 (the padded targets are masked; any class will do)
      const targets = batch.targets.map((row) =>
        tokens(
          row.map((v) => Math.max(v - 1, 0)),
          device,
        ),
      );
      // 2. forward the sequence through the rnn
      rnn.zeroGradParameters();
      const outputs = rnn.forward(input) as Tensor[];
      const err = criterion.forward(outputs, targets);
      const correct = stack(outputs.map((p) => argmax(p, -1)))
        .eq(stack(targets))
        .mul(real)
        .sum();
      // 3. backward the sequence through the rnn (backpropagation through time)
      rnn.backward(input, criterion.backward(outputs, targets));
      // 4. update
      rnn.updateParameters(o.lr);
      return [err, correct] as const;
    });
    real.dispose();
    criterion.dispose();
    const accuracies = r.extras.map(([c]) => c! / nReal);

    const files = [
      ...(await lossChart(
        'simple-bisequencer-network-variable: training loss (NLL over the real steps)',
        smoothed('loss', r.losses),
        o.out,
      )),
      ...(await lineChart(
        {
          title: 'simple-bisequencer-network-variable: accuracy of the batch (ACC, real steps)',
          xLabel: 'iteration',
          yLabel: 'accuracy (%)',
          legend: 'bottom-right',
          xFromZero: true,
          series: smoothed(
            'accuracy',
            accuracies.map((a) => 100 * a),
          ),
        },
        path.join(o.out, 'accuracy'),
      )),
    ];
    const text = summary({
      title: 'simple-bisequencer-network-variable',
      rows: [
        ['device', `${device} (${reason})`],
        ['model', `masked BLSTM (FastLSTM ${o.hidden} x 2, shared LookupTableMaskZero); SGD lr ${o.lr}`],
        ['lengths', `${data.maxStep.join(' ')} (of ${o.rho}, right-padded)`],
        trainingRow(r.losses.length, r.seconds, { stopped: r.stopped }),
        [
          'loss',
          `${meanOf(r.losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(r.losses, 10, 'last').toFixed(3)} (last 10), NLL`,
        ],
        [
          'accuracy',
          `${pct(meanOf(accuracies, 10, 'first'))} (first 10) -> ${pct(meanOf(accuracies, 10, 'last'))} (last 10) of ${nReal} real steps`,
        ],
      ],
      outDir: o.out,
      files,
    });
    return { device, losses: r.losses, accuracies, stopped: r.stopped, summary: text, files };
  },
});

const steps = (rows: readonly number[][], device: DeviceName): Tensor[] => rows.map((r) => tokens(r, device));

runIfMain(import.meta.url, main);
