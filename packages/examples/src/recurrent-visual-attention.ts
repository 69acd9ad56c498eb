/**
 * Element-research's examples/recurrent-visual-attention.lua: the recurrent attention model of Mnih et al. (2014)
 * learns to classify digits by taking `rho` glimpses, choosing where to look next with a REINFORCE-trained
 * locator (ReinforceNormal), scored by ClassNLLCriterion (backprop) plus VRClassReward (REINFORCE, with a learned
 * baseline), trained by SGD with momentum and a learning rate that falls linearly to --min-lr. The script reads
 * MNIST through dp; here the digits come from a 5x7 bitmap font drawn at random places in a larger canvas
 * (recurrent-visual-attention/digits.ts), and the held-out accuracy is measured every --eval-every iterations.
 *
 *   node packages/examples/dist/recurrent-visual-attention.js [--iterations N] [--canvas P] ...   (--help)
 */
import path from 'node:path';
import { type Tensor, argmax, nn, noGrad, optim, tensor, tidy } from '@webrnn/rnn';
import { type DigitImages, digitImages } from './recurrent-visual-attention/digits.js';
import { buildAgent } from './recurrent-visual-attention/model.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { probeOf, sizesOf } from './shared/probe.js';
import { lineChart, lossChart, smoothed } from './shared/plot.js';
import { meanOf, pct, summary, trainingRow } from './shared/summary.js';
import { CHECKPOINT_OPTIONS, RunCheckpoints } from './shared/checkpoint.js';
import { trainLoop } from './shared/trainLoop.js';

/** The Lua script's settings for the options it has (its data are MNIST, 28x28, in dp; its training runs epochs). */
export const LUA = {
  learningRate: 0.01,
  uniform: 0.1,
  glimpseHiddenSize: 128,
  glimpseDepth: 1,
  locatorHiddenSize: 128,
  imageHiddenSize: 256,
  rho: 7,
  hiddenSize: 256,
};

// The defaults are smaller than the script's so that a CPU run learns in minutes (its sizes run at about 2 it/s
// on two busy cores, and from its uniform(-0.1, 0.1) initialisation this deep net takes thousands of batches to
// leave the plateau where the loss stays at log(classes)); --lua restores them.
const OPTIONS = {
  iterations: { type: 'int', default: 2000, min: 1, help: 'training batches (Lua: epochs of MNIST)' },
  learningRate: { type: 'number', default: 0.05, above: 0, help: 'learning rate at t=0 (Lua: 0.01)' },
  minLR: { type: 'number', default: 0.00001, above: 0, help: 'minimum learning rate (Lua: 0.00001)' },
  saturate: {
    type: 'int',
    default: 2000,
    min: 1,
    help: 'iteration where the learning rate reaches --min-lr',
  },
  momentum: { type: 'number', default: 0.9, min: 0, help: 'momentum (Lua: 0.9)' },
  batchSize: { type: 'int', default: 20, min: 1, help: 'examples per batch (Lua: 20)' },
  uniform: { type: 'number', default: 0.3, help: 'initialise in [-u, u]; <= 0: default init (Lua: 0.1)' },
  rewardScale: { type: 'number', default: 1, help: 'scale of the positive reward (Lua: 1)' },
  unitPixels: {
    type: 'number',
    default: 13,
    above: 0,
    help: 'the locator unit (1, 1) maps to pixels (13, 13)',
  },
  locatorStd: { type: 'number', default: 0.11, above: 0, help: 'stdev of the location sampler (Lua: 0.11)' },
  stochastic: { type: 'boolean', help: 'Reinforce modules sample during evaluation too' },
  glimpseHiddenSize: { type: 'int', default: 64, min: 1, help: 'glimpse hidden layer (Lua: 128)' },
  glimpsePatchSize: { type: 'int', default: 8, min: 1, help: 'glimpse patch at highest res (Lua: 8)' },
  glimpseScale: { type: 'int', default: 2, min: 1, help: 'scale of successive patches (Lua: 2)' },
  glimpseDepth: { type: 'int', default: 2, min: 1, help: 'concatenated downscaled patches (Lua: 1)' },
  locatorHiddenSize: { type: 'int', default: 32, min: 1, help: 'locator hidden layer (Lua: 128)' },
  imageHiddenSize: { type: 'int', default: 64, min: 1, help: 'glimpse+locator layer (Lua: 256)' },
  rho: { type: 'int', default: 4, min: 1, help: 'glimpses per image, steps of BPTT (Lua: 7)' },
  hiddenSize: { type: 'int', default: 64, min: 1, help: 'hidden units of the RNN (Lua: 256)' },
  fastLSTM: { type: 'boolean', help: 'use a FastLSTM instead of a linear recurrent layer' },
  canvas: { type: 'int', default: 20, min: 7, help: 'side of the square image the digits are drawn in' },
  digitScale: { type: 'int', default: 2, min: 1, help: 'the 5x7 font scaled this many times' },
  classes: { type: 'int', default: 10, min: 2, help: 'digits 0..N-1 (at most 10)' },
  evalSize: { type: 'int', default: 500, min: 1, help: 'held-out images for the accuracy' },
  evalEvery: { type: 'int', default: 200, min: 1, help: 'iterations between evaluations' },
  lua: { type: 'boolean', help: "the Lua script's sizes, initialisation and rate for the options not given" },
  ...CHECKPOINT_OPTIONS,
} as const;

/** The options that shape the agent: a checkpoint must have been trained with the same. */
const SHAPE = [
  'glimpseHiddenSize',
  'glimpsePatchSize',
  'glimpseScale',
  'glimpseDepth',
  'locatorHiddenSize',
  'imageHiddenSize',
  'rho',
  'hiddenSize',
  'fastLSTM',
  'classes',
] as const;

export interface RecurrentVisualAttentionResult {
  readonly device: string;
  /** The NLL (backprop) part of the loss of each batch. */
  readonly losses: number[];
  /** The mean reward (accuracy of the sampled glimpses' prediction) of each batch. */
  readonly rewards: number[];
  /** Held-out accuracy at each evaluation (iteration 0 is before training). */
  readonly evaluations: { iteration: number; accuracy: number }[];
  readonly accuracy: number;
  readonly stopped: boolean;
  /** Iterations done in all (resumed ones included). */
  readonly iterations: number;
  /** The checkpoint written (--save, or on a stop), or null. */
  readonly checkpoint: string | null;
  readonly summary: string;
  readonly files: string[];
}

export const main = exampleMain({
  program: 'recurrent-visual-attention',
  description:
    "Element-research's recurrent-visual-attention.lua: a recurrent model of visual attention on translated digits",
  options: OPTIONS,
  settings: ({ options: o, given }) => {
    if (o.lua) for (const [k, v] of Object.entries(LUA)) if (!given.has(k)) Object.assign(o, { [k]: v });
    if (o.classes > 10) throw new Error(`--classes must be at most 10, got ${o.classes}`);
    return { canvas: o.canvas, scale: o.digitScale, classes: o.classes };
  },
  probe: ({ options: o, settings: data }) => {
    // The probe: one training step (both criterions, REINFORCE included) on a batch of the run's size.
    const sizes = sizesOf(o, [...SHAPE, 'batchSize']);
    return probeOf('recurrent-visual-attention', sizes, (d) => {
      const { agent: net } = buildAgent({ ...o, classes: o.classes });
      net.to(d);
      const [nllOf, vrOf] = [new nn.ClassNLLCriterion(), new nn.VRClassReward(net, o.rewardScale)];
      const batch = digitImages(o.batchSize, data, d);
      const y = tensor(Int32Array.from(batch.labels), { dtype: 'int32', device: d });
      return {
        step: () => {
          net.training().zeroGradParameters();
          const [logProbs, withBaseline] = net.forward(batch.images) as [Tensor, Tensor[]];
          const err = nllOf.forward(logProbs, y);
          vrOf.forward(withBaseline, y);
          net.backward(batch.images, [nllOf.backward(logProbs, y), vrOf.backward(withBaseline, y)]);
          return err;
        },
        dispose: () => {
          for (const owned of [nllOf, vrOf, net]) owned.dispose();
          for (const t of [batch.images, y]) t.dispose();
        },
      };
    });
  },
  body: async ({ options: o, settings: data, device, reason }): Promise<RecurrentVisualAttentionResult> => {
    const { agent } = buildAgent({ ...o, classes: o.classes });
    agent.to(device);
    const optimizer = new optim.SGD(agent.parameters()[0], {
      learningRate: o.learningRate,
      momentum: o.momentum,
    });
    const nll = new nn.ClassNLLCriterion(); // BACKPROP
    const vr = new nn.VRClassReward(agent, o.rewardScale); // REINFORCE
    try {
      console.log(`${agent}\n`);
      const held = digitImages(o.evalSize, data, device); // drawn first: the same whatever the training length
      const checkpoints = new RunCheckpoints(
        'recurrent-visual-attention',
        o,
        Object.fromEntries(SHAPE.map((k) => [k, o[k]])),
      );
      const first = checkpoints.resume(agent, optimizer, o.iterations);
      const evaluations = [{ iteration: first, accuracy: await accuracyOn(agent, held) }];
      const decay = (o.minLR - o.learningRate) / o.saturate;
      const r = await trainLoop(
        'training',
        o.iterations,
        (iteration) => {
          agent.training();
          optimizer.config.learningRate = Math.max(o.minLR, o.learningRate + decay * (iteration - 1));
          const batch = digitImages(o.batchSize, data, device);
          const y = tensor(Int32Array.from(batch.labels), { dtype: 'int32', device });
          optimizer.zeroGrad();
          const [logProbs, withBaseline] = agent.forward(batch.images) as [Tensor, Tensor[]];
          // ParallelCriterion(true):add(ClassNLLCriterion):add(VRClassReward): the losses add, each gets its output
          const err = nll.forward(logProbs!, y);
          const reward = vr.forward(withBaseline!, y); // -(mean reward)
          const gradOutput = [nll.backward(logProbs!, y), vr.backward(withBaseline!, y)];
          agent.backward(batch.images, gradOutput);
          optimizer.step(); // updateGradParameters(momentum) + updateParameters(learningRate)
          return [err, reward.neg()] as const;
        },
        async (iteration) => {
          if (iteration % o.evalEvery === 0)
            evaluations.push({ iteration, accuracy: await accuracyOn(agent, held) });
        },
        { to: checkpoints, net: agent, optimizer, first },
      );
      const reached = first + r.losses.length;
      if (evaluations.at(-1)!.iteration !== reached) {
        evaluations.push({ iteration: reached, accuracy: await accuracyOn(agent, held) });
      }
      const xs = r.losses.map((_, i) => first + i + 1);
      const rewards = r.extras.map(([v]) => v! / o.rewardScale);
      const last = evaluations.at(-1)!;
      const files = [
        ...(await lossChart(
          'recurrent-visual-attention: training loss (NLL of the classifier)',
          smoothed('NLL', r.losses, xs),
          o.out,
        )),
        ...(await lineChart(
          {
            title: 'recurrent-visual-attention: reward (training batches) and held-out accuracy',
            xLabel: 'iteration',
            yLabel: 'accuracy (%)',
            legend: 'bottom-right',
            xFromZero: true,
            series: [
              smoothed(
                'reward (sampled glimpses)',
                rewards.map((v) => 100 * v),
                xs,
              )[1]!,
              {
                name: 'held out',
                xs: evaluations.map((e) => e.iteration),
                ys: evaluations.map((e) => 100 * e.accuracy),
              },
            ],
          },
          path.join(o.out, 'accuracy'),
        )),
      ];
      const text = summary({
        title: 'recurrent-visual-attention',
        rows: [
          ['device', `${device} (${reason})`],
          [
            'data',
            `digits 0-${o.classes - 1} of a 5x7 font x${o.digitScale} at random places in ${o.canvas}x${o.canvas}`,
          ],
          [
            'model',
            `${o.rho} glimpses of ${o.glimpsePatchSize}x${o.glimpsePatchSize} x ${o.glimpseDepth}, ${o.fastLSTM ? 'FastLSTM' : 'Recurrent'} ${o.hiddenSize}; SGD lr ${o.learningRate} -> ${o.minLR}, momentum ${o.momentum}`,
          ],
          trainingRow(r.losses.length, r.seconds, {
            what: `batches of ${o.batchSize}`,
            stopped: r.stopped,
            resumedAt: first,
          }),
          [
            'loss',
            `${meanOf(r.losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(r.losses, 10, 'last').toFixed(3)} (last 10), NLL`,
          ],
          [
            'reward',
            `${pct(meanOf(rewards, 10, 'first'))} (first 10) -> ${pct(meanOf(rewards, 10, 'last'))} (last 10)`,
          ],
          [
            'accuracy',
            `${pct(last.accuracy)} of ${o.evalSize} held-out images (${pct(evaluations[0]!.accuracy)} before ${first > 0 ? 'this run' : 'training'}; chance ${pct(1 / o.classes)})`,
          ],
          ...(r.saved ? [['checkpoint', path.resolve(r.saved)] as [string, string]] : []),
        ],
        outDir: o.out,
        files,
      });
      held.images.dispose();
      return {
        device,
        losses: r.losses,
        rewards,
        evaluations,
        accuracy: last.accuracy,
        stopped: r.stopped,
        iterations: reached,
        checkpoint: r.saved,
        summary: text,
        files,
      };
    } finally {
      optimizer.dispose();
    }
  },
});

/** Held-out accuracy in evaluation mode (the locator looks at its means), without a tape. */
async function accuracyOn(agent: nn.Module, held: DigitImages): Promise<number> {
  agent.evaluate();
  const right = noGrad(() =>
    tidy(() => {
      const [logProbs] = agent.forward(held.images) as Tensor[];
      const y = tensor(Int32Array.from(held.labels), { dtype: 'int32', device: held.images.device });
      return argmax(logProbs!, -1).eq(y).sum();
    }),
  );
  const n = await right.item();
  right.dispose();
  return n / held.labels.length;
}

runIfMain(import.meta.url, main);
