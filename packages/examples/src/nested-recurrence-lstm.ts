/**
 * Element-research's examples/nested-recurrence-lstm.lua: AbstractRecurrent instances nest. A Recurrence whose
 * recurrent module {x(t), h(t-1)} -> h(t) contains a FastLSTM,
 *
 *   rm = Sequential(ParallelTable(LookupTable(nIndex, H), Linear(H, H)), CAddTable, Sigmoid,
 *                   FastLSTM(H, H), Linear(H, H), Sigmoid)
 *   Sequencer(Sequential(Recurrence(rm, H, 0), Linear(H, nIndex), LogSoftMax))
 *
 * learns to predict the next item of the counting sequence 1, 2, ..., 10, 1, 2, ... (simple-sequencer-network's
 * data set) with SequencerCriterion(ClassNLLCriterion) and plain SGD. The inner FastLSTM keeps its own state from
 * step to step, inside the Recurrence's; one Sequencer pass steps (and forgets, and backpropagates) both.
 * The script loops forever; --iterations bounds it here.
 *
 *   node packages/examples/dist/nested-recurrence-lstm.js [--iterations N] [--hidden H] ...   (--help)
 */
import path from 'node:path';
import { nn } from '@webrnn/rnn';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, stepsOf, trainingProbe, sizesOf } from './shared/probe.js';
import { CHECKPOINT_OPTIONS, RunCheckpoints } from './shared/checkpoint.js';
import { trainOnCounting } from './shared/countingSequence.js';
import { lossChart, smoothed } from './shared/plot.js';
import { meanOf, summary, trainingRow } from './shared/summary.js';

// The script's hyper-parameters are the defaults (it has no iteration limit).
const OPTIONS = {
  iterations: { type: 'int', default: 2000, min: 1, help: 'training iterations (Lua: forever)' },
  batch: { type: 'int', default: 8, min: 1, help: 'sequences per iteration (Lua: batchSize 8)' },
  rho: { type: 'int', default: 5, min: 1, help: 'sequence length (Lua: 5)' },
  hidden: { type: 'int', default: 7, min: 1, help: 'hidden size (Lua: hiddenSize 7)' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (Lua: 0.1)' },
  ...CHECKPOINT_OPTIONS,
} as const;

/** The items of the counting sequence (nIndex 10, fixed by the data set). */
const nIndex = 10;

export interface NestedRecurrenceResult {
  readonly device: string;
  readonly losses: number[];
  /** Next-item accuracy on a fresh batch after training. */
  readonly accuracy: number;
  readonly stopped: boolean;
  /** Iterations done in all (resumed ones included). */
  readonly iterations: number;
  /** The checkpoint written (--save, or on a stop), or null. */
  readonly checkpoint: string | null;
  readonly summary: string;
  readonly files: string[];
}

export function buildModel(hidden: number): nn.Sequencer {
  // Recurrence.recurrentModule
  const rm = new nn.Sequential()
    .add(
      new nn.ParallelTable()
        .add(new nn.LookupTable(nIndex, hidden)) // x(t)
        .add(new nn.Linear(hidden, hidden)), // h(t-1)
    )
    .add(new nn.CAddTable())
    .add(new nn.Sigmoid())
    .add(new nn.FastLSTM(hidden, hidden)) // an AbstractRecurrent instance
    .add(new nn.Linear(hidden, hidden))
    .add(new nn.Sigmoid());
  const rnn = new nn.Sequential()
    .add(new nn.Recurrence(rm, hidden, 0)) // another AbstractRecurrent instance (an index per sample: 0 dims)
    .add(new nn.Linear(hidden, nIndex))
    .add(new nn.LogSoftMax());
  // Internally, rnn is wrapped into a Recursor to make it an AbstractRecurrent instance.
  return new nn.Sequencer(rnn);
}

export const main = exampleMain({
  program: 'nested-recurrence-lstm',
  description: "Element-research's nested-recurrence-lstm.lua: a FastLSTM nested within a Recurrence",
  options: OPTIONS,
  probe: ({ options: o }) =>
    trainingProbe('nested-recurrence-lstm', sizesOf(o, ['hidden', 'rho', 'batch']), (d) => [
      { model: buildModel(o.hidden).to(d), input: stepsOf(o.rho, () => indices([o.batch], nIndex, d)) },
    ]),
  body: async ({ options: o, device, reason }): Promise<NestedRecurrenceResult> => {
    const rnn = buildModel(o.hidden).to(device);
    console.log(`${rnn}\n`);
    const checkpoints = new RunCheckpoints('nested-recurrence-lstm', o, { hidden: o.hidden });
    const r = await trainOnCounting(rnn, { ...o, device }, checkpoints);
    const files = await lossChart(
      `nested-recurrence-lstm: training loss (NLL summed over ${o.rho} steps)`,
      smoothed(
        'loss',
        r.losses,
        r.losses.map((_, i) => r.first + i + 1),
      ),
      o.out,
    );
    const text = summary({
      title: 'nested-recurrence-lstm',
      rows: [
        ['device', `${device} (${reason})`],
        ['model', `Recurrence(... FastLSTM(${o.hidden}) ...) -> Linear -> LogSoftMax; SGD lr ${o.lr}`],
        trainingRow(r.losses.length, r.seconds, {
          what: `iterations of ${o.batch} x ${o.rho} steps`,
          stopped: r.stopped,
          resumedAt: r.first,
        }),
        [
          'loss',
          `${meanOf(r.losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(r.losses, 10, 'last').toFixed(3)} (last 10), NLL`,
        ],
        ['accuracy', `${(100 * r.accuracy).toFixed(1)}% of next items on a fresh batch (chance 10%)`],
        ...(r.saved ? [['checkpoint', path.resolve(r.saved)] as [string, string]] : []),
      ],
      outDir: o.out,
      files,
    });
    return {
      device,
      losses: r.losses,
      iterations: r.first + r.losses.length,
      accuracy: r.accuracy,
      stopped: r.stopped,
      checkpoint: r.saved,
      summary: text,
      files,
    };
  },
});

runIfMain(import.meta.url, main);
