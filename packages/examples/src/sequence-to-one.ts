/**
 * Element-research's examples/sequence-to-one.lua: a simple RNN reads `rho` words and only its last output is
 * classified,
 *
 *   LookupTable(nIndex, H) -> SplitTable(1, 2) -> Sequencer(Recurrent(H, Identity, Linear(H, H), Sigmoid, rho))
 *     -> SelectTable(-1) -> Linear(H, nClass) -> LogSoftMax,  ClassNLLCriterion
 *
 * on its dummy data set whose words correlate with the class; plain SGD with updateParameters(lr). The example
 * prints the NLL of every iteration; here it is a progress line, a loss plot, and the accuracy on the data set
 * before and after training.
 *
 *   node packages/examples/dist/sequence-to-one.js [--iterations N] [--hidden H] ...   (--help)
 */
import {
  type DeviceName,
  type Tensor,
  argmax,
  defaultGenerator,
  nn,
  noGrad,
  tensor,
  tidy,
} from '@webrnn/rnn';
import { sequenceToOneData } from './sequence-to-one/data.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, trainingProbe, sizesOf } from './shared/probe.js';
import { lossChart, smoothed } from './shared/plot.js';
import { meanOf, pct, summary, trainingRow } from './shared/summary.js';
import { trainLoop } from './shared/trainLoop.js';

// The Lua script's hyper-parameters are the defaults.
const OPTIONS = {
  iterations: { type: 'int', default: 1000, min: 1, help: 'training iterations (Lua: 1000)' },
  batch: { type: 'int', default: 8, min: 1, help: 'samples per iteration (Lua: batchSize 8)' },
  rho: { type: 'int', default: 10, min: 1, help: 'words per sample (Lua: 10)' },
  hidden: { type: 'int', default: 100, min: 1, help: 'size of the recurrent layer (Lua: hiddenSize 100)' },
  nIndex: { type: 'int', default: 100, min: 1, help: 'words of the LookupTable (Lua: 100)' },
  nClass: { type: 'int', default: 7, min: 2, help: 'classes (Lua: 7); the words used are 0..nClass-1' },
  size: { type: 'int', default: 1000, min: 1, help: 'samples in the data set (Lua: ds.size 1000)' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (Lua: 0.1)' },
} as const;

export interface SequenceToOneResult {
  readonly device: string;
  readonly losses: number[];
  /** Accuracy on the whole data set before and after training. */
  readonly accuracyBefore: number;
  readonly accuracy: number;
  readonly stopped: boolean;
  readonly summary: string;
  readonly files: string[];
}

export function buildModel(nIndex: number, hidden: number, nClass: number, rho: number): nn.Module {
  // r = nn.Recurrent(hiddenSize, nn.Identity(), nn.Linear(hiddenSize, hiddenSize), nn.Sigmoid(), rho)
  const r = new nn.Recurrent(hidden, new nn.Identity(), new nn.Linear(hidden, hidden), new nn.Sigmoid(), rho);
  return new nn.Sequential()
    .add(new nn.LookupTable(nIndex, hidden)) // [N, rho] -> [N, rho, H]
    .add(new nn.SplitTable(0, 2)) // Lua SplitTable(1, 2): rho steps of [N, H]
    .add(new nn.Sequencer(r))
    .add(new nn.SelectTable(-1)) // this selects the last time-step of the rnn output sequence
    .add(new nn.Linear(hidden, nClass))
    .add(new nn.LogSoftMax());
}

export const main = exampleMain({
  program: 'sequence-to-one',
  description:
    "Element-research's sequence-to-one.lua: a simple RNN classifies a sequence by its last output",
  options: OPTIONS,
  settings: ({ options: o }) => {
    if (o.nClass > o.nIndex)
      throw new Error(`--n-class (${o.nClass}) must be at most --n-index (${o.nIndex})`);
  },
  probe: ({ options: o }) =>
    trainingProbe('sequence-to-one', sizesOf(o, ['hidden', 'rho', 'batch']), (d) => [
      {
        model: buildModel(o.nIndex, o.hidden, o.nClass, o.rho).to(d),
        input: indices([o.batch, o.rho], o.nIndex, d),
      },
    ]),
  body: async ({ options: o, device, reason }): Promise<SequenceToOneResult> => {
    const ds = sequenceToOneData(o.size, o.rho, o.nClass);
    const rnn = buildModel(o.nIndex, o.hidden, o.nClass, o.rho).to(device);
    console.log(`${rnn}\n`);
    const criterion = new nn.ClassNLLCriterion();
    const accuracyBefore = await accuracyOn(rnn, ds.inputs, ds.targets, device);

    rnn.training();
    const { losses, seconds, stopped } = await trainLoop('training', o.iterations, () => {
      // 1. indices:random(1, ds.size): a batch of random samples
      const indices = Array.from({ length: o.batch }, () => Math.floor(defaultGenerator.next() * o.size));
      const inputs = batchOf(
        indices.map((i) => ds.inputs[i]!),
        device,
      );
      const targets = classes(
        indices.map((i) => ds.targets[i]!),
        device,
      );
      // 2. forward the sequence through the rnn
      rnn.zeroGradParameters();
      const outputs = rnn.forward(inputs) as Tensor;
      const err = criterion.forward(outputs, targets);
      // 3. backward the sequence through the rnn (backpropagation through time)
      rnn.backward(inputs, criterion.backward(outputs, targets));
      // 4. update
      rnn.updateParameters(o.lr);
      return err;
    });
    const accuracy = await accuracyOn(rnn, ds.inputs, ds.targets, device);

    const files = await lossChart(
      `sequence-to-one: training loss (NLL; hidden ${o.hidden}, batch ${o.batch}, lr ${o.lr})`,
      smoothed('loss', losses),
      o.out,
    );
    const text = summary({
      title: 'sequence-to-one',
      rows: [
        ['device', `${device} (${reason})`],
        [
          'model',
          `Recurrent(${o.hidden}) over ${o.rho} words, last step -> ${o.nClass} classes; SGD lr ${o.lr}`,
        ],
        trainingRow(losses.length, seconds, { what: `iterations of ${o.batch}`, stopped: stopped }),
        [
          'loss',
          `${meanOf(losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(losses, 10, 'last').toFixed(3)} (last 10), NLL`,
        ],
        [
          'accuracy',
          `${pct(accuracy)} of the ${o.size} samples (${pct(accuracyBefore)} before training; chance ${pct(1 / o.nClass)})`,
        ],
      ],
      outDir: o.out,
      files,
    });
    return { device, losses, accuracyBefore, accuracy, stopped, summary: text, files };
  },
});

/** Samples of words as one int32 batch [N, rho] (batch-major, as the Lua script's ds.input rows). */
const batchOf = (rows: readonly (readonly number[])[], device: DeviceName): Tensor =>
  tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], dtype: 'int32', device });

const classes = (ys: readonly number[], device: DeviceName): Tensor =>
  tensor(Int32Array.from(ys), { dtype: 'int32', device });

/** Fraction of the samples whose most likely class is theirs: one batch, evaluation mode, no tape. */
async function accuracyOn(
  rnn: nn.Module,
  inputs: readonly (readonly number[])[],
  targets: readonly number[],
  device: DeviceName,
): Promise<number> {
  rnn.evaluate();
  const right = noGrad(() =>
    tidy(() =>
      argmax(rnn.forward(batchOf(inputs, device)) as Tensor, -1)
        .eq(classes(targets, device))
        .sum(),
    ),
  );
  const n = await right.item();
  right.dispose();
  return n / targets.length;
}

runIfMain(import.meta.url, main);
