/**
 * Element-research's examples/simple-bisequencer-network.lua: a bidirectional language model,
 *
 *   fwd = Recurrent(H, LookupTable(nIndex, H), Linear(H, H), Sigmoid, rho);  bwd = fwd:clone():reset()
 *   Sequential(BiSequencerLM(fwd, bwd, JoinTable(1, 1)), Sequencer(Linear(2H, nIndex)), Sequencer(LogSoftMax))
 *
 * over the counting sequence 1, 2, ..., 10, 1, 2, ... with SequencerCriterion(ClassNLLCriterion) and plain SGD.
 * BiSequencerLM (not BiSequencer) because this is a language model: output t merges the forward RNN's output after
 * step t-1 and the backward RNN's after step t+1, so x(t) is never used to predict y(t). (As in the script, the
 * target y(t) = x(t+1) is then in sight of the backward RNN: the task is easy, the point is the plumbing.)
 * The script loops forever; --iterations bounds it here.
 *
 *   node packages/examples/dist/simple-bisequencer-network.js [--iterations N] ...   (--help)
 */
import { nn } from '@webrnn/rnn';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, stepsOf, trainingProbe, sizesOf } from './shared/probe.js';
import { trainOnCounting } from './shared/countingSequence.js';
import { lossChart, smoothed } from './shared/plot.js';
import { meanOf, summary, trainingRow } from './shared/summary.js';

// The script's hyper-parameters are the defaults (it has no iteration limit).
const OPTIONS = {
  iterations: { type: 'int', default: 1000, min: 1, help: 'training iterations (Lua: forever)' },
  batch: { type: 'int', default: 8, min: 1, help: 'sequences per iteration (Lua: batchSize 8)' },
  rho: { type: 'int', default: 5, min: 2, help: 'sequence length (Lua: 5)' },
  hidden: { type: 'int', default: 7, min: 1, help: 'hidden size of each direction (Lua: hiddenSize 7)' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (Lua: 0.1)' },
} as const;

/** The items of the counting sequence (nIndex 10, fixed by the data set). */
const nIndex = 10;

export interface SimpleBiSequencerResult {
  readonly device: string;
  readonly losses: number[];
  /** Next-item accuracy on a fresh batch after training. */
  readonly accuracy: number;
  readonly stopped: boolean;
  readonly summary: string;
  readonly files: string[];
}

export function buildModel(hidden: number, rho: number): nn.Sequential {
  // forward rnn: a simple recurrent neural network
  const fwd = new nn.Recurrent(
    hidden,
    new nn.LookupTable(nIndex, hidden),
    new nn.Linear(hidden, hidden),
    new nn.Sigmoid(),
    rho,
  );
  // backward rnn (applied in reverse order of the input sequence): a copy, re-initialised
  const bwd = fwd.clone().reset();
  // merges the output of one time-step of fwd and bwd rnns (Lua JoinTable(1, 1): features of a batch)
  const merge = new nn.JoinTable(0, 1);
  const brnn = new nn.BiSequencerLM(fwd, bwd, merge);
  return new nn.Sequential()
    .add(brnn)
    .add(new nn.Sequencer(new nn.Linear(hidden * 2, nIndex))) // times two due to JoinTable
    .add(new nn.Sequencer(new nn.LogSoftMax()));
}

export const main = exampleMain({
  program: 'simple-bisequencer-network',
  description: "Element-research's simple-bisequencer-network.lua: a BiSequencerLM of simple RNNs",
  options: OPTIONS,
  probe: ({ options: o }) =>
    trainingProbe('simple-bisequencer-network', sizesOf(o, ['hidden', 'rho', 'batch']), (d) => [
      {
        model: buildModel(o.hidden, o.rho).to(d),
        input: stepsOf(o.rho, () => indices([o.batch], nIndex, d)),
      },
    ]),
  body: async ({ options: o, device, reason }): Promise<SimpleBiSequencerResult> => {
    const rnn = buildModel(o.hidden, o.rho).to(device);
    console.log(`${rnn}\n`);
    const r = await trainOnCounting(rnn, { ...o, device });
    const files = await lossChart(
      `simple-bisequencer-network: training loss (NLL summed over ${o.rho} steps)`,
      smoothed('loss', r.losses),
      o.out,
    );
    const text = summary({
      title: 'simple-bisequencer-network',
      rows: [
        ['device', `${device} (${reason})`],
        ['model', `BiSequencerLM(Recurrent(${o.hidden}) x 2) -> Linear -> LogSoftMax; SGD lr ${o.lr}`],
        trainingRow(r.losses.length, r.seconds, {
          what: `iterations of ${o.batch} x ${o.rho} steps`,
          stopped: r.stopped,
        }),
        [
          'loss',
          `${meanOf(r.losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(r.losses, 10, 'last').toFixed(3)} (last 10), NLL`,
        ],
        ['accuracy', `${(100 * r.accuracy).toFixed(1)}% of next items on a fresh batch (chance 10%)`],
      ],
      outDir: o.out,
      files,
    });
    return { device, losses: r.losses, accuracy: r.accuracy, stopped: r.stopped, summary: text, files };
  },
});

runIfMain(import.meta.url, main);
