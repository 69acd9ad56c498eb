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
import { type Tensor, defaultGenerator, nn, noGrad, tidy, unbind, zeros } from '@webrnn/rnn';
import {
  EVAL_START,
  LENGTH,
  TRAIN_END,
  type CosData,
  buildModel,
  cosData,
  cosProbe,
  predictNext,
} from './cosModel.js';
import { atLeast } from './shared/cli.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { lineChart, lossChart, smoothed } from './shared/plot.js';
import { CHECKPOINT_OPTIONS, RunCheckpoints } from './shared/checkpoint.js';
import { type LoopCheckpoint, type TrainRun, trainLoop } from './shared/trainLoop.js';
import { meanOf, mse, summary } from './shared/summary.js';

/** The tutorial's hyper-parameters (its Lua: nIters, batchSize, rho, hiddenSize, lr, nPredict; a constant lr). */
export const TUTORIAL = {
  iterations: 2000,
  batch: 80,
  rho: 10,
  hidden: 300,
  lr: 0.0001,
  schedule: 'constant',
  predict: 200,
};

// The defaults are smaller than the tutorial's so that a run takes about a minute on two CPU cores. In so short a
// run the tutorial's constant 0.0001 would barely move the weights: plain SGD starts at 0.5 here and the rate
// falls linearly to 0, large steps first, then small ones that let the weights settle (in our runs the one-step
// error ended over ten times lower than with a constant rate).
const OPTIONS = {
  iterations: { type: 'int', default: 3000, min: 1, help: 'training iterations (tutorial: 2000)' },
  hidden: { type: 'int', default: 32, help: 'size of the LSTM (tutorial: 300)' },
  rho: { type: 'int', default: 10, help: 'values of history per prediction, steps of BPTT (tutorial: 10)' },
  batch: { type: 'int', default: 32, help: 'sequences per iteration (tutorial: 80)' },
  lr: { type: 'number', default: 0.5, above: 0, help: 'learning rate of plain SGD (tutorial: 0.0001)' },
  schedule: {
    type: 'string',
    default: 'linear',
    choices: ['linear', 'constant'],
    help: 'learning rate over the run: linear (down to 0) or constant (tutorial)',
  },
  predict: { type: 'int', default: 200, help: 'points predicted in the evaluation (tutorial: 200)' },
  select: { type: 'boolean', help: 'the SplitTable -> Sequencer -> SelectTable(-1) form of the model' },
  evalOneStep: { type: 'boolean', help: 'evaluate one step ahead only (skip feeding predictions back)' },
  tutorial: { type: 'boolean', help: "the tutorial's settings for every option not given explicitly" },
  ...CHECKPOINT_OPTIONS,
} as const;

export interface CosResult {
  /** The settings used (the defaults, the tutorial's or the given ones). */
  readonly settings: typeof TUTORIAL;
  readonly device: string;
  /** The loss of each iteration of this run. */
  readonly losses: number[];
  /** Iterations done in all (resumed ones included). */
  readonly iterations: number;
  /** True when a signal stopped the training early. */
  readonly stopped: boolean;
  /** The checkpoint written (--save, or on a stop), or null. */
  readonly checkpoint: string | null;
  readonly oneStepMse: number;
  readonly multiStepMse: number | null;
  readonly itPerSecond: number;
  readonly files: string[];
}

export const main = exampleMain({
  program: 'cos',
  description: 'the Torch7 rnn tutorial: predicting cos(x) with a FastLSTM',
  options: OPTIONS,
  settings: ({ options: o, given }) => {
    if (o.tutorial)
      for (const [k, v] of Object.entries(TUTORIAL)) if (!given.has(k)) Object.assign(o, { [k]: v });
    const settings = {
      iterations: atLeast(o.iterations, 1, 'iterations'),
      hidden: atLeast(o.hidden, 1, 'hidden'),
      rho: atLeast(o.rho, 1, 'rho'),
      batch: atLeast(o.batch, 1, 'batch'),
      lr: o.lr,
      schedule: o.schedule,
      predict: atLeast(o.predict, 1, 'predict'),
    };
    if (EVAL_START + settings.rho + settings.predict > LENGTH) {
      throw new Error(`--rho plus --predict must be at most ${LENGTH - EVAL_START}`);
    }
    return settings;
  },
  probe: ({ settings, options }) => cosProbe(settings, options.select),
  body: async ({ options: o, settings, device, reason }): Promise<CosResult> => {
    const data = cosData(settings.rho, device);
    const rnn = buildModel(settings.hidden, o.select).to(device);
    console.log(`${rnn}\n`);
    // The options that shape the model; the schedule's length (--iterations) may grow on --resume.
    const checkpoints = new RunCheckpoints('cos', o, { hidden: settings.hidden, select: o.select });
    const first = checkpoints.resume(rnn, undefined, settings.iterations);
    const run = await train(rnn, data, settings, o.select, { to: checkpoints, net: rnn, first });
    const { losses, seconds } = run;
    const { truth, oneStep, multiStep } = await evaluate(rnn, data, settings, o.select, !o.evalOneStep);
    const oneStepMse = mse(oneStep, truth);
    const multiStepMse = multiStep ? mse(multiStep, truth) : null;
    const files = await plot(o.out, settings, data, { losses, first, truth, oneStep, multiStep });

    const itPerSecond = losses.length / seconds;
    const [head, tail] = [meanOf(losses, 10, 'first'), meanOf(losses, 10, 'last')];
    const form = o.select ? 'SplitTable/SelectTable form' : 'Sequencer form';
    const rows: [string, string][] = [
      ['device', `${device} (${reason})`],
      ['model', `${form}, hidden ${settings.hidden}, rho ${settings.rho}`],
      [
        'training',
        `${losses.length} iterations in ${seconds.toFixed(1)} s (${itPerSecond.toFixed(1)} it/s)` +
          (run.stopped ? ', stopped by a signal' : '') +
          (first > 0 ? `, resumed at ${first}` : ''),
      ],
      ['loss', `${head.toExponential(3)} (first 10) -> ${tail.toExponential(3)} (last 10)`],
      ['one-step MSE', `${oneStepMse.toExponential(3)} over ${settings.predict} held-out points`],
    ];
    if (multiStepMse !== null) {
      rows.push([
        'multi-step MSE',
        `${multiStepMse.toExponential(3)} over ${settings.predict} points fed back`,
      ]);
    }
    if (run.saved) rows.push(['checkpoint', path.resolve(run.saved)]);
    summary({ title: 'cos', rows, outDir: o.out, files });
    return {
      settings,
      device,
      losses,
      iterations: first + losses.length,
      stopped: run.stopped,
      checkpoint: run.saved,
      oneStepMse,
      multiStepMse,
      itPerSecond,
      files,
    };
  },
});

/**
 * Training, as the tutorial's loop: forward, MSE of the last step, backward, updateParameters; from the iteration
 * after `checkpoint.first`, saving as --save/--save-every/Ctrl-C ask (shared/trainLoop.ts).
 */
async function train(
  rnn: nn.Module,
  data: CosData,
  s: typeof TUTORIAL,
  select: boolean,
  checkpoint: LoopCheckpoint,
): Promise<TrainRun> {
  const { rho, batch, iterations } = s;
  rnn.training();
  const criterion = new nn.MSECriterion();
  // As the tutorial: `batch` random offsets into the sequence; each iteration reads a window of rho values at
  // every offset, then moves the offsets past it (back to the start when the next window would not fit).
  const offsets = Array.from({ length: batch }, () =>
    Math.floor(defaultGenerator.next() * (TRAIN_END - rho)),
  );
  // Only the last step is scored: the other steps get zero gradients (the tutorial's gradOutputsZeroed).
  const gradOutputsZeroed = Array.from({ length: rho - 1 }, () => zeros([batch, 1], { device: data.device }));
  try {
    return await trainLoop(
      'training',
      iterations,
      (iteration) => {
        const lr = s.schedule === 'linear' ? s.lr * (1 - (iteration - 1) / iterations) : s.lr;
        const x = data.windowsAt(offsets); // [rho, batch, 1]
        const y = data.nextValuesAt(offsets); // [batch, 1]
        for (let b = 0; b < batch; b++) {
          const next = offsets[b]! + rho;
          offsets[b] = next + rho < TRAIN_END ? next : 0;
        }
        rnn.zeroGradParameters();
        let err: Tensor;
        if (select) {
          // SplitTable -> Sequencer -> SelectTable(-1) -> ...: the output is the last step's only.
          const output = rnn.forward(x) as Tensor;
          err = criterion.forward(output, y);
          rnn.backward(x, criterion.backward(output, y));
        } else {
          const inputs = unbind(x, 0); // a table of rho steps, each [batch, 1]
          const outputs = rnn.forward(inputs) as Tensor[];
          err = criterion.forward(outputs[rho - 1]!, y);
          rnn.backward(inputs, [...gradOutputsZeroed, criterion.backward(outputs[rho - 1]!, y)]);
        }
        rnn.updateParameters(lr);
        return err;
      },
      undefined,
      checkpoint,
    );
  } finally {
    for (const g of gradOutputsZeroed) g.dispose();
  }
}

/** One-step-ahead and (unless `multi` is false) multi-step-ahead predictions on the held-out stretch. */
async function evaluate(rnn: nn.Module, data: CosData, s: typeof TUTORIAL, select: boolean, multi: boolean) {
  const { rho, predict } = s;
  rnn.evaluate(); // NormStabilizer adds no penalty in evaluation; noGrad below records no tape
  const truth = data.sequence.slice(EVAL_START + rho, EVAL_START + rho + predict);
  // One step ahead: every prediction sees true values only (all the windows at once, as one batch).
  const starts = Array.from({ length: predict }, (_, i) => EVAL_START + i);
  const out = noGrad(() => tidy(() => predictNext(rnn, data.windowsAt(starts), select)));
  const oneStep = Array.from(await out.data());
  out.dispose();
  if (!multi) return { truth, oneStep, multiStep: null };
  // Many steps ahead: seeded with rho true values, then each prediction is appended and fed back as an input.
  const predicted = data.sequence.slice(EVAL_START, EVAL_START + rho);
  for (let i = 0; i < predict; i++) {
    const next = noGrad(() => tidy(() => predictNext(rnn, data.windowsAt([i], predicted), select)));
    predicted.push((await next.data())[0]!);
    next.dispose();
  }
  return { truth, oneStep, multiStep: predicted.slice(rho) };
}

/** The loss curve (log scale, with its moving average) and both kinds of predictions against the truth. */
async function plot(
  out: string,
  s: typeof TUTORIAL,
  data: CosData,
  r: { losses: number[]; first: number; truth: number[]; oneStep: number[]; multiStep: number[] | null },
): Promise<string[]> {
  const xs = r.truth.map((_, i) => EVAL_START + s.rho + i);
  const truth = { name: 'cos(x)', xs, ys: r.truth };
  const files = [
    ...(await lossChart(
      `cos: training loss (MSE of the last step; hidden ${s.hidden}, batch ${s.batch}, lr ${s.lr} ${s.schedule})`,
      smoothed(
        'loss',
        r.losses,
        r.losses.map((_, i) => r.first + i + 1),
      ),
      out,
    )),
    ...(await lineChart(
      {
        title: `cos: one step ahead from true values (MSE ${mse(r.oneStep, r.truth).toExponential(2)})`,
        xLabel: 'index in the sequence (held out)',
        yLabel: 'cos(x)',
        series: [truth, { name: 'predicted', xs, ys: r.oneStep }],
      },
      path.join(out, 'one-step'),
    )),
  ];
  if (r.multiStep) {
    // The rho true values the forecast starts from, dashed, joined to the first value it predicts.
    const given = {
      name: `given (${s.rho} true values)`,
      xs: Array.from({ length: s.rho + 1 }, (_, i) => EVAL_START + i),
      ys: data.sequence.slice(EVAL_START, EVAL_START + s.rho + 1),
      dashed: true,
    };
    files.push(
      ...(await lineChart(
        {
          title: `cos: ${s.predict} steps ahead, fed its own predictions (MSE ${mse(r.multiStep, r.truth).toExponential(2)})`,
          xLabel: 'index in the sequence (held out)',
          yLabel: 'cos(x)',
          series: [truth, { name: 'predicted', xs, ys: r.multiStep }, given],
        },
        path.join(out, 'multi-step'),
      )),
    );
  }
  return files;
}

runIfMain(import.meta.url, main);
