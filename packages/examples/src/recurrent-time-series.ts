/**
 * Element-research's examples/recurrent-time-series.lua: a multivariate time series (`--multi-size` variables) is
 * predicted one step ahead by
 *
 *   Sequencer(Sequential(Recurrent(H, Linear(M, H), Linear(H, H), Sigmoid, rho), Linear(H, M)))
 *
 * scored by SequencerCriterion(MSECriterion) over `rho` steps and trained by plain SGD. The toy data set is
 * independently distributed per variable: variable i at time t is the normal density N(5, sigma_i) at j = t mod 11
 * plus a random bias, sigma_i = 1..M. The script prints each iteration's error and, at the end, the smallest
 * error and its iteration; so does the summary here, with the loss plot.
 *
 *   node packages/examples/dist/recurrent-time-series.js [--rho N] [--multi-size M] ...   (--help)
 */
import path from 'node:path';
import {
  type DeviceName,
  type Tensor,
  defaultGenerator,
  linspace,
  nn,
  randn,
  tensor,
  tidy,
} from '@webrnn/rnn';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { stepsOf, trainingProbe, values, sizesOf } from './shared/probe.js';
import { lineChart, smoothed } from './shared/plot.js';
import { meanOf, summary, trainingRow } from './shared/summary.js';
import { trainLoop } from './shared/trainLoop.js';

// cmd:option(...) of the Lua script, with its defaults.
const OPTIONS = {
  rho: { type: 'int', default: 5, min: 1, help: 'maximum number of time steps for BPTT (Lua: 5)' },
  multiSize: {
    type: 'int',
    default: 6,
    min: 2,
    help: 'number of random variables as input and output (Lua: 6)',
  },
  hiddenSize: { type: 'int', default: 10, min: 1, help: 'hidden units of the recurrent layer (Lua: 10)' },
  dataSize: {
    type: 'int',
    default: 100,
    min: 1,
    help: 'total number of time steps in the data set (Lua: 100)',
  },
  batchSize: { type: 'int', default: 8, min: 1, help: 'training samples per batch (Lua: 8)' },
  nIterations: { type: 'int', default: 1000, min: 1, help: 'training iterations (Lua: 1000)' },
  learningRate: { type: 'number', default: 0.001, above: 0, help: 'learning rate (Lua: 0.001)' },
} as const;

export interface RecurrentTimeSeriesResult {
  readonly device: string;
  readonly losses: number[];
  /** The smallest error and its (1-based) iteration, as the script reports them. */
  readonly minErr: number;
  readonly minK: number;
  readonly stopped: boolean;
  readonly summary: string;
  readonly files: string[];
}

/**
 * The data set [dataSize, multiSize] (row-major): row t is evalPDF(vMean, vSigma, j) + vBias with j = 0, 1, ..., 10,
 * 0, 1, ... (the script's counter, reset after 10).
 */
export function timeSeries(dataSize: number, multiSize: number): number[][] {
  const vBias = Array.from(tidy(() => randn([multiSize], { dtype: 'float64' }).dataSync()));
  const vMean = 5;
  const vSigma = Array.from(tidy(() => linspace(1, multiSize, multiSize, { dtype: 'float64' }).dataSync()));
  const evalPDF = (x: number, sigma: number) => {
    const b = (x - vMean) / sigma;
    return Math.exp((-b * b) / 2) / (sigma * Math.sqrt(2 * Math.PI));
  };
  return Array.from({ length: dataSize }, (_, t) =>
    vBias.map((bias, i) => evalPDF(t % 11, vSigma[i]!) + bias),
  );
}

export function buildModel(multiSize: number, hiddenSize: number, rho: number): nn.Module {
  const r = new nn.Recurrent(
    hiddenSize, // size of output
    new nn.Linear(multiSize, hiddenSize), // input layer
    new nn.Linear(hiddenSize, hiddenSize), // recurrent layer
    new nn.Sigmoid(), // transfer function
    rho,
  );
  // use Sequencer for better data handling
  return new nn.Sequencer(new nn.Sequential().add(r).add(new nn.Linear(hiddenSize, multiSize)));
}

export const main = exampleMain({
  program: 'recurrent-time-series',
  description: "Element-research's recurrent-time-series.lua: a multivariate time-series model using an RNN",
  options: OPTIONS,
  probe: ({ options: opt }) =>
    trainingProbe(
      'recurrent-time-series',
      sizesOf(opt, ['multiSize', 'hiddenSize', 'rho', 'batchSize']),
      (d) => [
        {
          model: buildModel(opt.multiSize, opt.hiddenSize, opt.rho).to(d),
          input: stepsOf(opt.rho, () => values([opt.batchSize, opt.multiSize], d)),
        },
      ],
    ),
  body: async ({ options: opt, device, reason }): Promise<RecurrentTimeSeriesResult> => {
    const sequence = timeSeries(opt.dataSize, opt.multiSize);
    // offsets = torch.LongTensor(opt.batchSize):random(1, opt.dataSize)
    const offsets = Array.from({ length: opt.batchSize }, () =>
      Math.floor(defaultGenerator.next() * opt.dataSize),
    );
    const rnn = buildModel(opt.multiSize, opt.hiddenSize, opt.rho).to(device);
    const criterion = new nn.SequencerCriterion(new nn.MSECriterion());
    console.log(`Model:\n${rnn}\n`);

    rnn.training();
    const { losses, seconds, stopped } = await trainLoop('training', opt.nIterations, () => {
      // 1. create a sequence of rho time-steps: inputs at the offsets, targets one step later
      const inputs: Tensor[] = [];
      const targets: Tensor[] = [];
      for (let step = 0; step < opt.rho; step++) {
        inputs.push(rows(sequence, offsets, device));
        for (let b = 0; b < offsets.length; b++) offsets[b] = (offsets[b]! + 1) % opt.dataSize;
        targets.push(rows(sequence, offsets, device));
      }
      // 2. forward the sequence through the rnn
      const outputs = rnn.forward(inputs);
      const err = criterion.forward(outputs, targets);
      // 3. backward the sequence through the rnn (backpropagation through time)
      rnn.zeroGradParameters();
      rnn.backward(inputs, criterion.backward(outputs, targets));
      // 4. update the parameters
      rnn.updateParameters(opt.learningRate);
      return err;
    });
    // minErr, minK: the smallest error and its iteration (the script starts minErr at multiSize)
    let [minErr, minK] = [opt.multiSize, 0];
    losses.forEach((e, k) => {
      if (e < minErr) [minErr, minK] = [e, k + 1];
    });

    const files = await lineChart(
      {
        title: `recurrent-time-series: training error (SequencerCriterion(MSE) over ${opt.rho} steps)`,
        xLabel: 'iteration',
        yLabel: 'error',
        logY: true,
        xFromZero: true,
        series: smoothed('error', losses),
      },
      path.join(opt.out, 'loss'),
    );
    const text = summary({
      title: 'recurrent-time-series',
      rows: [
        ['device', `${device} (${reason})`],
        [
          'model',
          `Recurrent(${opt.hiddenSize}) on ${opt.multiSize} variables, rho ${opt.rho}; SGD lr ${opt.learningRate}`,
        ],
        trainingRow(losses.length, seconds, { what: `iterations of ${opt.batchSize}`, stopped: stopped }),
        [
          'error',
          `${meanOf(losses, 10, 'first').toExponential(3)} (first 10) -> ${meanOf(losses, 10, 'last').toExponential(3)} (last 10)`,
        ],
        ['min err', `${minErr.toExponential(3)} on iteration ${minK}`],
      ],
      outDir: opt.out,
      files,
    });
    return { device, losses, minErr, minK, stopped, summary: text, files };
  },
});

/** inputs[step]:index(sequence, 1, offsets): the rows of the data set at the offsets, [batch, multiSize]. */
function rows(sequence: readonly number[][], offsets: readonly number[], device: DeviceName): Tensor {
  const m = sequence[0]!.length;
  return tensor(Float32Array.from(offsets.flatMap((o) => sequence[o]!)), {
    shape: [offsets.length, m],
    device,
  });
}

runIfMain(import.meta.url, main);
