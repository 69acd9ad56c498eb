/**
 * Sequence-to-one classification with a bidirectional LSTM over sequences of varying length:
 *
 *   LookupTableMaskZero(V, E) -> SeqBLSTM(E, H, JoinTable(-1)) -> SplitTable(0) -> SelectTable(-1)
 *     -> Linear(2H, 2) -> LogSoftMax,  ClassNLLCriterion
 *
 * The sequences are left-padded with token 0, which LookupTableMaskZero maps to zero vectors and the masked
 * (maskZero) SeqLSTMs skip, so the last step is every sequence's last real step. The task is a synthetic
 * sentiment (more positive than negative words?) or the parity of a bit string. --layer bisequencer builds the
 * bidirectional layer as BiSequencer(SeqLSTM) instead of SeqBLSTM.
 *
 *   node packages/examples/dist/sequence-classify.js [--task sentiment|parity] [--layer ...] ...   (--help)
 */
import path from 'node:path';
import { type DeviceName, type Tensor, argmax, nn, noGrad, optim, tensor, tidy } from '@webrnn/rnn';
import { TASKS, type Task, examples, leftPadded, vocabOf } from './sequence-classify/data.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, trainingProbe, sizesOf } from './shared/probe.js';
import { atLeast } from './shared/cli.js';
import { lineChart, lossChart, smoothed } from './shared/plot.js';
import { Progress } from './shared/progress.js';
import { meanOf, pct, summary } from './shared/summary.js';

export const LAYERS = ['seqblstm', 'bisequencer'] as const;
export type Layer = (typeof LAYERS)[number];

const OPTIONS = {
  task: {
    type: 'string',
    default: 'sentiment',
    choices: TASKS,
    help: 'sentiment (word counts) or parity (bits)',
  },
  layer: {
    type: 'string',
    default: 'seqblstm',
    choices: LAYERS,
    help: 'the bidirectional layer: SeqBLSTM or BiSequencer(SeqLSTM)',
  },
  minLength: { type: 'int', default: 4, help: 'shortest sequence' },
  maxLength: { type: 'int', default: 12, help: 'longest sequence' },
  vocab: {
    type: 'int',
    default: 20,
    help: 'words of the sentiment task (a quarter positive, a quarter negative)',
  },
  iterations: { type: 'int', default: 300, min: 1, help: 'training iterations (one batch each)' },
  batch: { type: 'int', default: 32, help: 'sequences per iteration' },
  hidden: { type: 'int', default: 32, help: 'units of each direction' },
  embed: { type: 'int', default: 16, help: 'size of the word embeddings' },
  lr: { type: 'number', default: 0.01, above: 0, help: 'learning rate of Adam' },
  evalSize: { type: 'int', default: 500, help: 'held-out sequences for the accuracy' },
  evalEvery: { type: 'int', default: 20, help: 'iterations between evaluations (the accuracy curve)' },
} as const;

export interface SequenceClassifyResult {
  readonly device: string;
  readonly task: Task;
  readonly layer: Layer;
  readonly losses: number[];
  /** Accuracy of each training batch (before its update). */
  readonly trainAccuracy: number[];
  /** Held-out accuracy at each evaluation (iteration 0 is before training). */
  readonly evaluations: { iteration: number; accuracy: number }[];
  readonly accuracy: number;
  readonly itPerSecond: number;
  readonly summary: string;
  readonly files: string[];
}

/** The bidirectional layer [T, N, E] -> [T, N, 2H]: forward and backward outputs side by side, both masked. */
function bidirectional(layer: Layer, embed: number, hidden: number): nn.Module {
  const bi =
    layer === 'seqblstm'
      ? new nn.SeqBLSTM(embed, hidden, new nn.JoinTable(-1))
      : new nn.BiSequencer(new nn.SeqLSTM(embed, hidden)); // merges with JoinTable(-1) by default
  // Padding steps (zero embeddings) leave the states at zero and give zero outputs, in both directions.
  for (const m of [bi.forwardModule, bi.backwardModule]) (m as nn.SeqLSTM).maskZero();
  return bi;
}

export function buildModel(
  task: Task,
  layer: Layer,
  vocab: number,
  embed: number,
  hidden: number,
): nn.Module {
  return new nn.Sequential()
    .add(new nn.LookupTableMaskZero(vocabOf(task, vocab), embed)) // token 0 (padding) -> zeros
    .add(bidirectional(layer, embed, hidden))
    .add(new nn.SplitTable(0)) // T steps of [N, 2H]
    .add(new nn.SelectTable(-1)) // the last one: every sequence's last real step (left-padding)
    .add(new nn.Linear(2 * hidden, 2))
    .add(new nn.LogSoftMax());
}

export const main = exampleMain({
  program: 'sequence-classify',
  description: 'a bidirectional LSTM classifies sequences of varying length (sentiment or parity)',
  options: OPTIONS,
  settings: ({ options: o }) => {
    const s = {
      task: o.task as Task,
      layer: o.layer as Layer,
      minLength: atLeast(o.minLength, 1, 'minLength'),
      maxLength: atLeast(o.maxLength, 1, 'maxLength'),
      vocab: atLeast(o.vocab, 4, 'vocab'),
      iterations: atLeast(o.iterations, 1, 'iterations'),
      batch: atLeast(o.batch, 1, 'batch'),
      hidden: atLeast(o.hidden, 1, 'hidden'),
      embed: atLeast(o.embed, 1, 'embed'),
      lr: o.lr,
      evalSize: atLeast(o.evalSize, 1, 'evalSize'),
      evalEvery: atLeast(o.evalEvery, 1, 'evalEvery'),
    };
    if (s.maxLength < s.minLength) {
      throw new Error(`--max-length (${s.maxLength}) must be at least --min-length (${s.minLength})`);
    }
    return s;
  },
  probe: ({ settings: s }) => {
    // The probe: the model over a batch of the longest sequences (tokens 1..V; 0 is the padding).
    return trainingProbe(
      'sequence-classify',
      sizesOf(s, ['task', 'layer', 'vocab', 'embed', 'hidden', 'batch', 'maxLength']),
      (d) => [
        {
          model: buildModel(s.task, s.layer, s.vocab, s.embed, s.hidden).to(d),
          input: indices([s.maxLength, s.batch], vocabOf(s.task, s.vocab), d, 1),
        },
      ],
    );
  },
  body: async ({ options: o, settings: s, device, reason }): Promise<SequenceClassifyResult> => {
    const model = buildModel(s.task, s.layer, s.vocab, s.embed, s.hidden).to(device);
    const optimizer = new optim.Adam(model.parameters()[0], { learningRate: s.lr });
    const draw = (n: number) => examples(s.task, n, s.minLength, s.maxLength, s.vocab);
    try {
      console.log(`${model}\n`);
      const held = draw(s.evalSize); // drawn first: the same whatever the training length
      const majority = Math.max(...[0, 1].map((c) => held.labels.filter((l) => l === c).length)) / s.evalSize;
      const evaluate = async (iteration: number) => {
        const started = performance.now();
        const accuracy = await classify(model, held.tokens, held.labels, device);
        return { iteration, accuracy, seconds: (performance.now() - started) / 1000 };
      };

      const criterion = new nn.ClassNLLCriterion();
      const evaluations = [await evaluate(0)];
      const losses: number[] = [];
      const trainAccuracy: number[] = [];
      const progress = new Progress(s.iterations);
      let trainSeconds = 0;
      for (let iteration = 1; iteration <= s.iterations; iteration++) {
        const started = performance.now();
        const batch = draw(s.batch);
        model.training();
        const [loss, right] = tidy(() => {
          const x = leftPadded(batch.tokens, device); // [Tmax, N]
          const y = tensor(Int32Array.from(batch.labels), { dtype: 'int32', device });
          optimizer.zeroGrad();
          const logProbs = model.forward(x) as Tensor; // [N, 2]
          const err = criterion.forward(logProbs, y);
          model.backward(x, criterion.backward(logProbs, y));
          optimizer.step();
          return [err, correct(logProbs, y)];
        });
        losses.push(await loss.item());
        trainAccuracy.push((await right.item()) / s.batch);
        loss.dispose();
        right.dispose();
        trainSeconds += (performance.now() - started) / 1000;
        progress.update(iteration, losses.at(-1)!);
        if (iteration % s.evalEvery === 0 || iteration === s.iterations) {
          evaluations.push(await evaluate(iteration));
        }
      }
      const last = evaluations.at(-1)!;
      const files = await plot(o.out, s, losses, trainAccuracy, evaluations, majority);
      const itPerSecond = s.iterations / trainSeconds;
      const text = summary({
        title: 'sequence-classify',
        rows: [
          ['device', `${device} (${reason})`],
          ['task', `${s.task}, lengths ${s.minLength}-${s.maxLength} (left-padded, masked)`],
          [
            'model',
            `${s.layer === 'seqblstm' ? 'SeqBLSTM' : 'BiSequencer(SeqLSTM)'} ${s.embed} -> 2x${s.hidden}, last step -> Linear -> LogSoftMax; Adam lr ${s.lr}`,
          ],
          [
            'training',
            `${s.iterations} iterations of ${s.batch} in ${trainSeconds.toFixed(1)} s (${itPerSecond.toFixed(1)} it/s)`,
          ],
          [
            'loss',
            `${meanOf(losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(losses, 10, 'last').toFixed(3)} (last 10), NLL`,
          ],
          [
            'accuracy',
            `${pct(last.accuracy)} of ${s.evalSize} held-out sequences (${pct(evaluations[0]!.accuracy)} before training; majority class ${pct(majority)})`,
          ],
          ['evaluation', `${(s.evalSize / last.seconds).toFixed(0)} sequences/s`],
        ],
        outDir: o.out,
        files,
      });
      return {
        device,
        task: s.task,
        layer: s.layer,
        losses,
        trainAccuracy,
        evaluations: evaluations.map(({ iteration, accuracy }) => ({ iteration, accuracy })),
        accuracy: last.accuracy,
        itPerSecond,
        summary: text,
        files,
      };
    } finally {
      optimizer.dispose();
    }
  },
});

/** The number of rows of log-probabilities [N, 2] whose most likely class is the label. */
const correct = (logProbs: Tensor, labels: Tensor): Tensor =>
  noGrad(() => argmax(logProbs, -1).eq(labels).sum());

/** Held-out accuracy: all the sequences as one batch, in evaluation mode, without a tape. */
async function classify(
  model: nn.Module,
  tokens: readonly (readonly number[])[],
  labels: readonly number[],
  device: DeviceName,
): Promise<number> {
  model.evaluate();
  const right = noGrad(() =>
    tidy(() =>
      correct(
        model.forward(leftPadded(tokens, device)) as Tensor,
        tensor(Int32Array.from(labels), { dtype: 'int32', device }),
      ),
    ),
  );
  const n = await right.item();
  right.dispose();
  return n / labels.length;
}

/** The loss curve (log scale, with its moving average) and the accuracy curves. */
async function plot(
  out: string,
  s: { task: Task; iterations: number },
  losses: number[],
  trainAccuracy: number[],
  evaluations: { iteration: number; accuracy: number }[],
  majority: number,
): Promise<string[]> {
  const at = evaluations.map((e) => e.iteration);
  return [
    ...(await lossChart(`sequence-classify (${s.task}): training loss (NLL)`, smoothed('loss', losses), out)),
    ...(await lineChart(
      {
        title: `sequence-classify (${s.task}): accuracy`,
        xLabel: 'iteration',
        yLabel: 'accuracy (%)',
        legend: 'bottom-right',
        xFromZero: true,
        series: [
          {
            name: 'majority class',
            xs: [0, s.iterations],
            ys: [100 * majority, 100 * majority],
            dashed: true,
          },
          smoothed(
            'training batches',
            trainAccuracy.map((a) => 100 * a),
          )[1]!,
          { name: 'held out', xs: at, ys: evaluations.map((e) => 100 * e.accuracy) },
        ],
      },
      path.join(out, 'accuracy'),
    )),
  ];
}

runIfMain(import.meta.url, main);
