/**
 * The Torch7 rnn tutorial's time series ("Element-Research Torch RNN Tutorial", part 2): learn to predict the next
 * value of cos(x) from the previous `rho` values with
 *
 *   Sequencer(Sequential(Linear(1, H), FastLSTM(H, H), NormStabilizer(), Linear(H, 1), HardTanh()))
 *
 * scored by MSE on the last step only, trained by plain SGD; then predict one step ahead (every window of true
 * values) and many steps ahead (feeding the model its own predictions). --select builds the tutorial's other form,
 * SplitTable -> Sequencer(LSTM) -> SelectTable(-1) -> Linear -> HardTanh. --tutorial restores its full settings.
 *
 *   node packages/examples/dist/cos.js [--iterations N] [--hidden H] [--select] [--tutorial] ...   (--help)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Tensor,
  defaultGenerator,
  linspace,
  manualSeed,
  nn,
  noGrad,
  tensor,
  tidy,
  unbind,
  zeros,
} from '@webrnn/rnn';
import { chooseBackend, teardown } from './shared/backend.js';
import { atLeast, parseCli, run } from './shared/cli.js';
import { lineChart, movingAverage } from './shared/plot.js';
import { Progress } from './shared/progress.js';
import { meanOf, mse, summary } from './shared/summary.js';

/** The tutorial's hyper-parameters (its Lua: nIters, batchSize, rho, hiddenSize, lr, nPredict). */
export const TUTORIAL = { iterations: 2000, batch: 80, rho: 10, hidden: 300, lr: 0.0001, predict: 200 };

// The defaults are smaller than the tutorial's so that a run takes about a minute on two CPU cores; the learning
// rate is larger because this run is short (the tutorial's 0.0001 barely moves the weights in 2000 iterations).
const OPTIONS = {
  iterations: { type: 'int', default: 1500, help: 'training iterations (tutorial: 2000)' },
  hidden: { type: 'int', default: 32, help: 'size of the LSTM (tutorial: 300)' },
  rho: { type: 'int', default: 10, help: 'values of history per prediction, steps of BPTT (tutorial: 10)' },
  batch: { type: 'int', default: 32, help: 'sequences per iteration (tutorial: 80)' },
  lr: { type: 'number', default: 0.2, help: 'learning rate of plain SGD (tutorial: 0.0001)' },
  predict: { type: 'int', default: 200, help: 'points predicted in the evaluation (tutorial: 200)' },
  select: { type: 'boolean', help: 'the SplitTable -> Sequencer -> SelectTable(-1) form of the model' },
  evalOneStep: { type: 'boolean', help: 'evaluate one step ahead only (skip feeding predictions back)' },
  tutorial: { type: 'boolean', help: "the tutorial's settings for every option not given explicitly" },
} as const;

export interface CosResult {
  readonly settings: {
    iterations: number;
    hidden: number;
    rho: number;
    batch: number;
    lr: number;
    predict: number;
  };
  readonly device: string;
  readonly losses: number[];
  readonly oneStepMse: number;
  readonly multiStepMse: number | null;
  readonly itPerSecond: number;
  readonly files: string[];
}

/** The tutorial's model: a step module that the Sequencer applies to every element of the sequence. */
function buildModel(hidden: number, select: boolean): InstanceType<typeof nn.Module> {
  if (!select) {
    return new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Linear(1, hidden))
        .add(new nn.FastLSTM(hidden, hidden))
        .add(new nn.NormStabilizer()) // keeps the norm of h(t) steady from step to step (Krueger & Memisevic)
        .add(new nn.Linear(hidden, 1))
        .add(new nn.HardTanh()), // cos(x) lies in [-1, 1]
    );
  }
  // The same net with the output layers applied to the last step only: the input is one tensor [rho, batch, 1].
  return new nn.Sequential()
    .add(new nn.SplitTable(0))
    .add(
      new nn.Sequencer(
        new nn.Sequential()
          .add(new nn.Linear(1, hidden))
          .add(new nn.FastLSTM(hidden, hidden))
          .add(new nn.NormStabilizer()),
      ),
    )
    .add(new nn.SelectTable(-1))
    .add(new nn.Linear(hidden, 1))
    .add(new nn.HardTanh());
}

export async function main(argv: readonly string[]): Promise<CosResult | null> {
  const cli = parseCli('cos', 'the Torch7 rnn tutorial: predicting cos(x) with a FastLSTM', OPTIONS, argv);
  if (!cli) return null;
  const o = cli.options;
  if (o.tutorial)
    for (const [k, v] of Object.entries(TUTORIAL)) if (!cli.given.has(k)) Object.assign(o, { [k]: v });
  const [iterations, hidden, rho, batch] = (['iterations', 'hidden', 'rho', 'batch'] as const).map((k) =>
    atLeast(o[k], 1, k),
  ) as [number, number, number, number];
  const nPredict = atLeast(o.predict, 1, 'predict');
  manualSeed(o.seed);
  const { device, reason } = await chooseBackend(o.backend);

  // The data: cos over 2000 points of [0, 200], ten points per radian. The tutorial trains on all of it and
  // predicts its beginning; here the last quarter is held out and the predictions are made there.
  const sequence = Array.from(linspace(0, 200, 2000, { dtype: 'float64' }).dataSync(), Math.cos);
  const trainEnd = 1500;
  const evalStart = trainEnd;
  if (evalStart + rho + nPredict > sequence.length) {
    throw new Error(`--rho plus --predict must be at most ${sequence.length - evalStart}`);
  }

  const rnn = buildModel(hidden, o.select).to(device);
  rnn.training();
  console.log(`${rnn}\n`);
  const criterion = new nn.MSECriterion();

  // The windows of rho values starting at `starts`, as a batch [rho, N, 1] (from `values`, the true sequence or
  // the model's own predictions), and the true value that follows each window, [N, 1].
  const windowsAt = (starts: readonly number[], values: readonly number[] = sequence): Tensor => {
    const n = starts.length;
    const x = new Float32Array(rho * n);
    for (let t = 0; t < rho; t++) for (let b = 0; b < n; b++) x[t * n + b] = values[starts[b]! + t]!;
    return tensor(x, { shape: [rho, n, 1], device });
  };
  const nextValuesAt = (starts: readonly number[]): Tensor =>
    tensor(
      Float32Array.from(starts, (s) => sequence[s + rho]!),
      { shape: [starts.length, 1], device },
    );
  // The model's prediction for the value after each window, [N, 1].
  const predictNext = (x: Tensor): Tensor =>
    o.select ? (rnn.forward(x) as Tensor) : (rnn.forward(unbind(x, 0)) as Tensor[])[rho - 1]!;

  // As the tutorial: `batch` random offsets into the sequence; each iteration reads a window of rho values at
  // every offset, then moves the offsets past it (back to the start when the next window would not fit).
  const offsets = Array.from({ length: batch }, () => Math.floor(defaultGenerator.next() * (trainEnd - rho)));
  // Only the last step is scored: the other steps get zero gradients (the tutorial's gradOutputsZeroed).
  const gradOutputsZeroed = Array.from({ length: rho }, () => zeros([batch, 1], { device }));

  const losses: number[] = [];
  const progress = new Progress(iterations);
  for (let iteration = 1; iteration <= iterations; iteration++) {
    // tidy frees every tensor made inside except the one returned (the loss); the weights live outside.
    const loss = tidy(() => {
      const x = windowsAt(offsets);
      const y = nextValuesAt(offsets);
      rnn.zeroGradParameters();
      let err: Tensor;
      if (o.select) {
        const output = rnn.forward(x) as Tensor;
        err = criterion.forward(output, y);
        rnn.backward(x, criterion.backward(output, y));
      } else {
        const inputs = unbind(x, 0); // a table of rho steps [batch, 1]
        const outputs = rnn.forward(inputs) as Tensor[];
        err = criterion.forward(outputs[rho - 1]!, y);
        const gradOutputs = [
          ...gradOutputsZeroed.slice(0, rho - 1),
          criterion.backward(outputs[rho - 1]!, y),
        ];
        rnn.backward(inputs, gradOutputs);
      }
      rnn.updateParameters(o.lr);
      return err;
    });
    losses.push(await loss.item());
    loss.dispose();
    for (let b = 0; b < batch; b++) {
      offsets[b] = offsets[b]! + rho + rho < trainEnd ? offsets[b]! + rho : 0;
    }
    progress.update(iteration, losses.at(-1)!);
  }
  const seconds = progress.seconds;
  for (const g of gradOutputsZeroed) g.dispose();

  // Evaluation mode (NormStabilizer adds no penalty), and no tape: noGrad records nothing.
  rnn.evaluate();
  const truth = sequence.slice(evalStart + rho, evalStart + rho + nPredict);
  // One step ahead: every prediction sees true values only (all windows at once, as one batch).
  const starts = Array.from({ length: nPredict }, (_, i) => evalStart + i);
  const oneStepOut = noGrad(() => tidy(() => predictNext(windowsAt(starts))));
  const oneStep = Array.from(await oneStepOut.data());
  oneStepOut.dispose();
  // Many steps ahead: seeded with rho true values, then every prediction is appended and fed back as input.
  let multiStep: number[] | null = null;
  if (!o.evalOneStep) {
    const predicted = sequence.slice(evalStart, evalStart + rho);
    for (let i = 0; i < nPredict; i++) {
      const out = noGrad(() => tidy(() => predictNext(windowsAt([i], predicted))));
      predicted.push((await out.data())[0]!);
      out.dispose();
    }
    multiStep = predicted.slice(rho);
  }
  const oneStepMse = mse(oneStep, truth);
  const multiStepMse = multiStep ? mse(multiStep, truth) : null;

  // Plots: the loss curve (log scale, with its moving average), and both predictions against the truth.
  const xs = truth.map((_, i) => evalStart + rho + i);
  const seedXs = Array.from({ length: rho + 1 }, (_, i) => evalStart + i);
  const given = {
    name: `given (${rho} true values)`,
    xs: seedXs,
    ys: sequence.slice(evalStart, evalStart + rho + 1),
    dashed: true,
  };
  const files = [
    ...(await lineChart(
      {
        title: `cos: training loss (MSE of the last step, hidden ${hidden}, batch ${batch}, lr ${o.lr})`,
        xLabel: 'iteration',
        yLabel: 'loss',
        logY: true,
        xFromZero: true,
        series: [
          { name: 'loss', xs: losses.map((_, i) => i + 1), ys: losses, faint: true },
          { name: 'moving average (50)', xs: losses.map((_, i) => i + 1), ys: movingAverage(losses, 50) },
        ],
      },
      path.join(o.out, 'loss'),
    )),
    ...(await lineChart(
      {
        title: `cos: one step ahead from true values (MSE ${oneStepMse.toExponential(2)})`,
        xLabel: 'index in the sequence (held out)',
        yLabel: 'cos(x)',
        series: [
          { name: 'cos(x)', xs, ys: truth },
          { name: 'predicted', xs, ys: oneStep },
        ],
      },
      path.join(o.out, 'one-step'),
    )),
  ];
  if (multiStep) {
    files.push(
      ...(await lineChart(
        {
          title: `cos: ${nPredict} steps ahead, fed its own predictions (MSE ${multiStepMse!.toExponential(2)})`,
          xLabel: 'index in the sequence (held out)',
          yLabel: 'cos(x)',
          series: [{ name: 'cos(x)', xs, ys: truth }, { name: 'predicted', xs, ys: multiStep }, given],
        },
        path.join(o.out, 'multi-step'),
      )),
    );
  }

  const itPerSecond = iterations / seconds;
  summary({
    title: 'cos',
    rows: [
      ['device', `${device} (${reason})`],
      [
        'model',
        `${o.select ? 'SplitTable/SelectTable form' : 'Sequencer form'}, hidden ${hidden}, rho ${rho}`,
      ],
      [
        'training',
        `${iterations} iterations of batch ${batch} in ${seconds.toFixed(1)} s (${itPerSecond.toFixed(1)} it/s)`,
      ],
      [
        'loss',
        `${meanOf(losses, 10, 'first').toExponential(3)} (first 10) -> ${meanOf(losses, 10, 'last').toExponential(3)} (last 10)`,
      ],
      ['one-step MSE', `${oneStepMse.toExponential(3)} over ${nPredict} held-out points`],
      ...(multiStepMse === null
        ? []
        : ([
            ['multi-step MSE', `${multiStepMse.toExponential(3)} over ${nPredict} points fed back`],
          ] as const)),
    ],
    outDir: o.out,
    files,
  });
  teardown(device);
  const settings = { iterations, hidden, rho, batch, lr: o.lr, predict: nPredict };
  return { settings, device, losses, oneStepMse, multiStepMse, itPerSecond, files };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run(main);
