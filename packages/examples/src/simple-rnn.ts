/**
 * The Torch7 rnn README's first example, line by line: a recurrent net over sequences of word indices from a
 * 10-word dictionary, trained step by step with a Recursor (forward 5 steps, backward in reverse order), then the
 * same with a Sequencer and a SequencerCriterion, then with nn.Recurrence. Word indices are 0-based here.
 *
 *   node packages/examples/dist/simple-rnn.js [--iterations N]   (--help lists all)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Tensor, defaultGenerator, manualSeed, nn, stack, tensor, tidy } from '@webrnn/rnn';
import { chooseBackend, num, parseCli, teardown } from './shared/cli.js';
import { lineChart } from './shared/plot.js';

const OPTIONS = {
  iterations: { type: 'string', default: '300', help: 'training iterations for each of the three variants' },
  lr: { type: 'string', default: '0.1', help: 'learning rate of updateParameters' },
} as const;

const batchSize = 8;
const rho = 5;
const hiddenSize = 7;
const nIndex = 10;

export interface SimpleRnnResult {
  readonly losses: Record<'recursor' | 'sequencer' | 'recurrence', number[]>;
  readonly files: string[];
}

export async function main(argv: readonly string[]): Promise<SimpleRnnResult | null> {
  const o = parseCli('simple-rnn', "the Torch7 rnn README's first example, three ways", OPTIONS, argv);
  if (!o) return null;
  const iterations = num(o.iterations, 'iterations');
  const lr = num(o.lr, 'lr');
  manualSeed(num(o.seed, 'seed'));
  const device = await chooseBackend(String(o.backend));

  // A dummy dataset, as in the README: word t+1 follows word t in a fixed, learnable way.
  const next = Array.from({ length: nIndex }, () => Math.floor(defaultGenerator.next() * nIndex));
  const offsets = Array.from({ length: batchSize }, () => Math.floor(defaultGenerator.next() * nIndex));
  const batchAt = () => {
    const steps: Tensor[] = [];
    let words = [...offsets];
    for (let t = 0; t <= rho; t++) {
      steps.push(tensor(words, { dtype: 'int32', device }));
      words = words.map((w) => next[w]!);
    }
    offsets.forEach((w, i) => (offsets[i] = next[w]!));
    return { inputs: steps.slice(0, rho), targets: steps.slice(1) };
  };

  // 1. nn.Recurrent inside a Recursor, stepped by hand.
  const r = new nn.Recurrent(
    hiddenSize,
    new nn.LookupTable(nIndex, hiddenSize),
    new nn.Linear(hiddenSize, hiddenSize),
    new nn.Sigmoid(),
    rho,
  );
  const rnn = new nn.Recursor(
    new nn.Sequential().add(r).add(new nn.Linear(hiddenSize, nIndex)).add(new nn.LogSoftMax()),
    rho,
  ).to(device);
  const criterion = new nn.ClassNLLCriterion();
  console.log(`${rnn}\n`);
  const recursor: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const err = tidy(() => {
      const { inputs, targets } = batchAt();
      const outputs: Tensor[] = [];
      const losses: Tensor[] = [];
      for (let step = 0; step < rho; step++) {
        outputs[step] = rnn.forward(inputs[step]!) as Tensor;
        losses[step] = criterion.forward(outputs[step]!, targets[step]!);
      }
      // Backward through time, in reverse order of the forward calls.
      for (let step = rho - 1; step >= 0; step--) {
        criterion.forward(outputs[step]!, targets[step]!);
        rnn.backward(inputs[step]!, criterion.backward(outputs[step]!, targets[step]!));
      }
      rnn.updateParameters(lr);
      rnn.forget();
      rnn.zeroGradParameters();
      return stack(losses).mean();
    });
    recursor.push(await err.item());
    err.dispose();
  }
  console.log(`Recursor:   loss ${recursor[0]!.toFixed(3)} -> ${recursor.at(-1)!.toFixed(3)}`);

  // 2 and 3. A whole sequence at a time: Sequencer + SequencerCriterion, with Recurrent and with Recurrence.
  const trainSequencer = async (model: InstanceType<typeof nn.Sequencer>) => {
    const crit = new nn.SequencerCriterion(new nn.ClassNLLCriterion(), true);
    const losses: number[] = [];
    for (let iteration = 0; iteration < iterations; iteration++) {
      const err = tidy(() => {
        const { inputs, targets } = batchAt();
        const outputs = model.forward(inputs);
        const loss = crit.forward(outputs, targets);
        model.zeroGradParameters();
        model.backward(inputs, crit.backward(outputs, targets));
        model.updateParameters(lr);
        return loss;
      });
      losses.push(await err.item());
      err.dispose();
    }
    return losses;
  };
  const rr = new nn.Recurrent(
    hiddenSize,
    new nn.LookupTable(nIndex, hiddenSize),
    new nn.Linear(hiddenSize, hiddenSize),
    new nn.Sigmoid(),
    rho,
  );
  const seq = new nn.Sequencer(
    new nn.Sequential().add(rr).add(new nn.Linear(hiddenSize, nIndex)).add(new nn.LogSoftMax()),
  ).to(device);
  console.log(`\n${seq}\n`);
  const sequencer = await trainSequencer(seq);
  console.log(`Sequencer:  loss ${sequencer[0]!.toFixed(3)} -> ${sequencer.at(-1)!.toFixed(3)}`);

  // nn.Recurrence: the module maps {input(t), output(t-1)} to output(t).
  const step = new nn.Sequential()
    .add(
      new nn.ParallelTable()
        .add(new nn.LookupTable(nIndex, hiddenSize))
        .add(new nn.Linear(hiddenSize, hiddenSize)),
    )
    .add(new nn.CAddTable())
    .add(new nn.Sigmoid());
  const rec = new nn.Sequencer(
    new nn.Sequential()
      .add(new nn.Recurrence(step, hiddenSize, 0))
      .add(new nn.Linear(hiddenSize, nIndex))
      .add(new nn.LogSoftMax()),
  ).to(device);
  const recurrence = await trainSequencer(rec);
  console.log(`Recurrence: loss ${recurrence[0]!.toFixed(3)} -> ${recurrence.at(-1)!.toFixed(3)}`);

  const xs = recursor.map((_, i) => i + 1);
  const files = await lineChart(
    {
      title: 'simple-rnn: training loss (NLL per step)',
      xLabel: 'iteration',
      yLabel: 'loss',
      series: [
        { name: 'Recursor', xs, ys: recursor },
        { name: 'Sequencer', xs, ys: sequencer },
        { name: 'Recurrence', xs, ys: recurrence },
      ],
    },
    path.join(String(o.out), 'loss'),
  );
  console.log(`\nplots in ${path.resolve(String(o.out))}: ${files.map((f) => path.basename(f)).join(', ')}`);
  teardown(device);
  return { losses: { recursor, sequencer, recurrence }, files };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
