/**
 * The Torch7 rnn tutorial's first net ("Element-Research Torch RNN Tutorial", part 1), line by line: a simple RNN
 * h(t) = sigmoid(W_hh h(t-1) + W_xh x(t)) over word indices from a dictionary of 10 words, with a 7-unit state and
 * truncated BPTT over 5 steps, followed by o(t) = LogSoftMax(W_ho h(t)). It is trained three ways:
 *
 *   1. nn.Recurrent in a Recursor, stepped by hand: 5 forwards, then 5 backwards in reverse order;
 *   2. the same net in a Sequencer with a SequencerCriterion: one forward and one backward per sequence;
 *   3. the same with nn.Recurrence, which takes the step module {x(t), h(t-1)} -> h(t) as one module.
 *
 * Word indices are 0-based int32 here (Torch's are 1-based).
 *
 *   node packages/examples/dist/simple-rnn.js [--iterations N] [--lr LR] [--batch N]   (--help)
 */
import { type Tensor, add, defaultGenerator, nn, tensor, tidy } from '@webrnn/rnn';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, stepsOf, trainingProbe } from './shared/probe.js';
import { atLeast } from './shared/cli.js';
import { lossChart } from './shared/plot.js';
import { Progress } from './shared/progress.js';
import { meanOf, summary } from './shared/summary.js';

const OPTIONS = {
  iterations: { type: 'int', default: 300, min: 1, help: 'training iterations for each of the three nets' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (tutorial: 0.1)' },
  batch: { type: 'int', default: 8, help: 'sequences per iteration (the tutorial uses one)' },
} as const;

const dictionarySize = 10;
const hiddenSize = 7;
const rho = 5; // sequence length, and the BPTT limit

type Variant = 'Recursor' | 'Sequencer' | 'Recurrence';
export interface SimpleRnnResult {
  readonly losses: Record<Variant, number[]>;
  readonly files: string[];
}

/** rr = Sequential(r, Linear(7, 10), LogSoftMax()), where r is the recurrent layer of the chosen form. */
function buildNet(recurrence: boolean) {
  const r = recurrence
    ? // Recurrence(rm, hiddenSize, nInputDim): rm maps {x(t), h(t-1)} to h(t); an index per sample has 0 dims.
      new nn.Recurrence(
        new nn.Sequential()
          .add(
            new nn.ParallelTable()
              .add(new nn.LookupTable(dictionarySize, hiddenSize)) // W_xh x(t): a 7-d embedding of the word
              .add(new nn.Linear(hiddenSize, hiddenSize)), // W_hh h(t-1)
          )
          .add(new nn.CAddTable())
          .add(new nn.Sigmoid()),
        hiddenSize,
        0,
      )
    : new nn.Recurrent(
        hiddenSize, // the size of h(t); the first step starts from a learnt bias, nn.Add(7)
        new nn.LookupTable(dictionarySize, hiddenSize), // W_xh x(t)
        new nn.Linear(hiddenSize, hiddenSize), // W_hh h(t-1)
        new nn.Sigmoid(), // the transfer function
        rho, // truncated BPTT limit
      );
  return new nn.Sequential()
    .add(r)
    .add(new nn.Linear(hiddenSize, dictionarySize)) // o(t) = W_ho h(t)
    .add(new nn.LogSoftMax()); // log-probabilities of the next word
}

export const main = exampleMain({
  program: 'simple-rnn',
  description: "the Torch7 rnn tutorial's first net, three ways",
  options: OPTIONS,
  settings: ({ options: o }) => ({
    iterations: atLeast(o.iterations, 1, 'iterations'),
    batch: atLeast(o.batch, 1, 'batch'),
  }),
  // The probe: the Sequencer form over a batch (the three forms cost about the same per step).
  probe: ({ settings: { batch } }) =>
    trainingProbe('simple-rnn', { batch }, (d) => [
      {
        model: new nn.Sequencer(buildNet(false)).to(d),
        input: stepsOf(rho, () => indices([batch], dictionarySize, d)),
      },
    ]),
  body: async ({ options: o, settings: { iterations, batch }, device, reason }): Promise<SimpleRnnResult> => {
    // The data, as the tutorial's inputs {1, 2, 3, 4, 5} and targets {2, 3, 4, 5, 6}: each word is followed by the
    // next one in the dictionary (wrapping around). A batch is `batch` such sequences from random first words.
    const sequences = () => {
      const first = Array.from({ length: batch }, () => Math.floor(defaultGenerator.next() * dictionarySize));
      const word = (t: number) =>
        tensor(
          Int32Array.from(first, (w) => (w + t) % dictionarySize),
          { device },
        );
      return {
        inputs: Array.from({ length: rho }, (_, t) => word(t)), // rho steps, each [batch] int32
        targets: Array.from({ length: rho }, (_, t) => word(t + 1)),
      };
    };

    // 1. Recurrent in a Recursor (which makes Sequential(r, Linear, LogSoftMax) follow the step-by-step protocol).
    const rnn = new nn.Recursor(buildNet(false), rho).to(device);
    const criterion = new nn.ClassNLLCriterion();
    console.log(`${rnn}\n`);
    const byStep = await train(iterations, () => {
      const { inputs, targets } = sequences();
      // Apply each element of the sequence to the rnn step by step.
      const outputs: Tensor[] = [];
      let err: Tensor | null = null;
      for (let step = 0; step < rho; step++) {
        outputs[step] = rnn.forward(inputs[step]!);
        const e = criterion.forward(outputs[step]!, targets[step]!);
        err = err ? add(err, e) : e;
      }
      // Backpropagate through time, in the reverse order of the forward calls (as in Torch, the criterion's
      // backward is computed from its arguments, this step's output and target).
      for (let step = rho - 1; step >= 0; step--) {
        rnn.backward(inputs[step]!, criterion.backward(outputs[step]!, targets[step]!));
      }
      rnn.updateParameters(o.lr);
      rnn.forget(); // reset the hidden state after every sequence
      rnn.zeroGradParameters(); // reset the accumulated gradients after every sequence
      return err!.div(rho); // the loss per step, for the plot
    });

    // 2. The same net in a Sequencer: the whole sequence in one forward and one backward (it forgets before each).
    const seq = new nn.Sequencer(buildNet(false)).to(device);
    console.log(`\n${seq}\n`);
    const whole = await train(iterations, trainSequencer(seq, sequences, o.lr));

    // 3. With nn.Recurrence instead of nn.Recurrent.
    const rec = new nn.Sequencer(buildNet(true)).to(device);
    console.log(`\n${rec}\n`);
    const recurrence = await train(iterations, trainSequencer(rec, sequences, o.lr));

    const losses: Record<Variant, number[]> = { Recursor: byStep, Sequencer: whole, Recurrence: recurrence };
    const xs = byStep.map((_, i) => i + 1);
    const files = await lossChart(
      'simple-rnn: training loss (NLL per step)',
      Object.entries(losses).map(([name, ys]) => ({ name, xs, ys })),
      o.out,
    );
    summary({
      title: 'simple-rnn',
      rows: [
        ['device', `${device} (${reason})`],
        ...Object.entries(losses).map(
          ([name, ys]) =>
            [
              `${name} loss`,
              `${meanOf(ys, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(ys, 10, 'last').toFixed(3)} (last 10)`,
            ] as const,
        ),
      ],
      outDir: o.out,
      files,
    });
    return { losses, files };
  },
});

/** One Sequencer iteration, as in the tutorial: forward, criterion, backward, update, zero the gradients. */
function trainSequencer(
  rnn: nn.Sequencer,
  sequences: () => { inputs: Tensor[]; targets: Tensor[] },
  lr: number,
) {
  // The losses of the steps are added (as Torch's, and as the Recursor's gradients above).
  const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
  return () => {
    const { inputs, targets } = sequences();
    const outputs = rnn.forward(inputs);
    const err = criterion.forward(outputs, targets);
    rnn.backward(inputs, criterion.backward(outputs, targets));
    rnn.updateParameters(lr);
    rnn.zeroGradParameters();
    return err.div(rho); // the loss per step, for the plot
  };
}

/** Run `step` (which returns the loss) `iterations` times, each in its own tidy scope; returns the losses. */
async function train(iterations: number, step: () => Tensor): Promise<number[]> {
  const losses: number[] = [];
  const progress = new Progress(iterations);
  for (let i = 1; i <= iterations; i++) {
    const loss = tidy(step);
    losses.push(await loss.item());
    loss.dispose();
    progress.update(i, losses.at(-1)!);
  }
  return losses;
}

runIfMain(import.meta.url, main);
