/**
 * The Torch7 rnn tutorial's time-series example: predict the next value of cos(x) from the previous `rho` values
 * with Linear -> FastLSTM -> NormStabilizer -> Linear -> HardTanh in a Sequencer, MSE on the last step only, plain
 * SGD. Then predict one step ahead (from true values) and many steps ahead (from its own predictions).
 *
 *   node packages/examples/dist/cos.js [--tutorial] [--iterations N] [--hidden H] ...   (--help lists all)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Tensor, defaultGenerator, linspace, manualSeed, nn, noGrad, tensor, tidy } from '@webrnn/rnn';
import { chooseBackend, num, parseCli, teardown } from './shared/cli.js';
import { lineChart } from './shared/plot.js';
import { Progress } from './shared/progress.js';

const OPTIONS = {
  iterations: { type: 'string', default: '1000', help: 'training iterations (the tutorial: 2000)' },
  hidden: { type: 'string', default: '48', help: 'LSTM size (the tutorial: 300)' },
  rho: { type: 'string', default: '10', help: 'steps of history fed to the model (BPTT length)' },
  batch: { type: 'string', default: '32', help: 'sequences per iteration (the tutorial: 80)' },
  lr: {
    type: 'string',
    default: '0.2',
    help: 'SGD learning rate (the tutorial: 0.0001 over its sum-scaled loss)',
  },
  predict: { type: 'string', default: '200', help: 'steps to predict ahead in the evaluation' },
  select: {
    type: 'boolean',
    default: false,
    help: 'use the SplitTable -> Sequencer -> SelectTable(-1) form',
  },
  'eval-one-step': {
    type: 'boolean',
    default: false,
    help: 'only evaluate one step ahead (skip the multi-step run)',
  },
  tutorial: {
    type: 'boolean',
    default: false,
    help: "the tutorial's full settings: hidden 300, batch 80, 2000 iterations",
  },
} as const;

export interface CosResult {
  readonly device: string;
  readonly losses: number[];
  readonly oneStepMse: number;
  readonly multiStepMse: number | null;
  readonly itPerSecond: number;
  readonly files: string[];
}

/** The model, written as the tutorial writes it. */
function buildModel(hidden: number, select: boolean) {
  const step = new nn.Sequential()
    .add(new nn.Linear(1, hidden))
    .add(new nn.FastLSTM(hidden, hidden))
    .add(new nn.NormStabilizer())
    .add(new nn.Linear(hidden, 1))
    .add(new nn.HardTanh());
  // Input [rho, batch, 1]; only the last step's output is compared with the target.
  return select
    ? new nn.Sequential().add(new nn.SplitTable(0)).add(new nn.Sequencer(step)).add(new nn.SelectTable(-1))
    : new nn.Sequential().add(new nn.Sequencer(step)).add(new nn.Select(0, -1));
}

export async function main(argv: readonly string[]): Promise<CosResult | null> {
  const o = parseCli('cos', 'the Torch7 rnn tutorial: predicting cos(x) with a FastLSTM', OPTIONS, argv);
  if (!o) return null;
  if (o.tutorial) Object.assign(o, { hidden: '300', batch: '80', iterations: '2000', rho: '10' });
  const iterations = num(o.iterations, 'iterations');
  const hidden = num(o.hidden, 'hidden');
  const rho = num(o.rho, 'rho');
  const batch = num(o.batch, 'batch');
  const lr = num(o.lr, 'lr');
  const nPredict = num(o.predict, 'predict');
  manualSeed(num(o.seed, 'seed'));
  const device = await chooseBackend(String(o.backend));

  // The data: cos over 2000 points of [0, 200]; the first 1500 for training, the rest held out.
  const series = Array.from(linspace(0, 200, 2000, { dtype: 'float64' }).dataSync(), Math.cos);
  const trainEnd = 1500;
  const model = buildModel(hidden, Boolean(o.select)).to(device);
  const criterion = new nn.MSECriterion();
  console.log(`${model}\n`);

  // Each batch starts at `batch` random offsets, moved forward by one at every iteration (as the tutorial).
  const offsets = Array.from({ length: batch }, () =>
    Math.floor(defaultGenerator.next() * (trainEnd - rho - 1)),
  );
  const window = (starts: readonly number[]) => {
    const x = new Float32Array(rho * starts.length);
    for (let t = 0; t < rho; t++) starts.forEach((s, b) => (x[t * starts.length + b] = series[s + t]!));
    const y = Float32Array.from(starts, (s) => series[s + rho]!);
    return {
      x: tensor(x, { shape: [rho, starts.length, 1], device }),
      y: tensor(y, { shape: [starts.length, 1], device }),
    };
  };

  const losses: number[] = [];
  const progress = new Progress(iterations);
  for (let it = 1; it <= iterations; it++) {
    const loss = tidy(() => {
      const { x, y } = window(offsets);
      model.zeroGradParameters();
      const out = model.forward(x);
      const err = criterion.forward(out, y);
      model.backward(x, criterion.backward(out, y));
      model.updateParameters(lr);
      return err;
    });
    losses.push(await loss.item());
    loss.dispose();
    for (let b = 0; b < batch; b++) offsets[b] = (offsets[b]! + 1) % (trainEnd - rho - 1);
    progress.update(it, losses.at(-1)!);
  }
  const itPerSecond = iterations / progress.seconds;

  // Evaluation on the held-out stretch, without recording gradients.
  model.evaluate();
  const start = trainEnd;
  const truth = series.slice(start + rho, start + rho + nPredict);
  // One step ahead: every prediction sees true values.
  const starts = Array.from({ length: nPredict }, (_, i) => start + i);
  const oneStepOut = noGrad(() => tidy(() => model.forward(window(starts).x) as Tensor));
  const oneStep = Array.from(await oneStepOut.data());
  oneStepOut.dispose();
  const mse = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;
  const oneStepMse = mse(oneStep, truth);
  // Many steps ahead: the model's own predictions are fed back as inputs.
  let multi: number[] | null = null;
  if (!o['eval-one-step']) {
    const history = series.slice(start, start + rho);
    multi = [];
    for (let i = 0; i < nPredict; i++) {
      const recent = history.slice(-rho);
      const out = noGrad(() =>
        tidy(() => model.forward(tensor(recent, { shape: [rho, 1, 1], device })) as Tensor),
      );
      const v = (await out.data())[0]!;
      out.dispose();
      multi.push(v);
      history.push(v);
    }
  }
  const multiStepMse = multi ? mse(multi, truth) : null;

  const out = String(o.out);
  const xs = truth.map((_, i) => start + rho + i);
  const files = [
    ...(await lineChart(
      {
        title: 'Training loss (MSE)',
        xLabel: 'iteration',
        yLabel: 'loss',
        logY: true,
        series: [{ name: 'loss', xs: losses.map((_, i) => i + 1), ys: losses }],
      },
      path.join(out, 'loss'),
    )),
    ...(await lineChart(
      {
        title: `One step ahead (MSE ${oneStepMse.toExponential(2)})`,
        xLabel: 'index in the sequence',
        yLabel: 'cos(x)',
        series: [
          { name: 'true', xs, ys: truth },
          { name: 'predicted', xs, ys: oneStep },
        ],
      },
      path.join(out, 'one-step'),
    )),
  ];
  if (multi) {
    files.push(
      ...(await lineChart(
        {
          title: `${nPredict} steps ahead, fed its own predictions (MSE ${multiStepMse!.toExponential(2)})`,
          xLabel: 'index in the sequence',
          yLabel: 'cos(x)',
          series: [
            { name: 'true', xs, ys: truth },
            { name: 'predicted', xs, ys: multi },
          ],
        },
        path.join(out, 'multi-step'),
      )),
    );
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
  const last = losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
  console.log(
    [
      '',
      `device            ${device}`,
      `training          ${iterations} iterations, ${itPerSecond.toFixed(2)} it/s`,
      `loss              ${first.toExponential(3)} (first 10) -> ${last.toExponential(3)} (last 10)`,
      `one-step MSE      ${oneStepMse.toExponential(3)} over ${nPredict} held-out points`,
      multiStepMse !== null
        ? `multi-step MSE    ${multiStepMse.toExponential(3)} (${nPredict} steps fed back)`
        : '',
      `plots in ${path.resolve(out)}:`,
      ...files.map((f) => `  ${path.basename(f)}`),
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  teardown(device);
  return { device, losses, oneStepMse, multiStepMse, itPerSecond, files };
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
