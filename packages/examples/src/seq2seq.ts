/**
 * Sequence to sequence: an encoder SeqLSTM reads a sequence of digits, a decoder SeqLSTM that starts from the
 * encoder's last output and cell writes them reversed (or sorted). Element-research's encoder-decoder coupling
 * (examples/encoder-decoder-coupling-seqLSTM.lua): userPrevOutput/userPrevCell forwards, gradPrevOutput/
 * userNextGradCell backwards. Trained with teacher forcing (the decoder reads the true previous token), evaluated
 * by greedy decoding (it reads its own previous prediction) on held-out sequences, scored by exact match.
 * --attention adds soft attention over the encoder's outputs at every decoder step (Luong et al.; --score picks
 * the scoring rule).
 *
 *   node packages/examples/dist/seq2seq.js [--task reverse|sort] [--length N] [--attention] ...   (--help)
 */
import path from 'node:path';
import { type Tensor, nn, noGrad, optim, tidy } from '@webrnn/rnn';
import { TASKS, type Task, accuracy, decoderInputs, examples, timeMajor } from './seq2seq/data.js';
import {
  SCORES,
  type Score,
  type Seq2Seq,
  buildSeq2Seq,
  describeSeq2Seq,
  greedyDecode,
  moveTo,
  trainStep,
} from './seq2seq/model.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { indices, probeOf, sizesOf } from './shared/probe.js';
import { atLeast } from './shared/cli.js';
import { lineChart, lossChart, smoothed } from './shared/plot.js';
import { Progress } from './shared/progress.js';
import { meanOf, pct, summary } from './shared/summary.js';

const OPTIONS = {
  task: {
    type: 'string',
    default: 'reverse',
    choices: TASKS,
    help: 'what the decoder writes: reverse or sort',
  },
  length: { type: 'int', default: 5, help: 'digits per sequence' },
  digits: { type: 'int', default: 10, help: 'size of the alphabet (digits 0..N-1)' },
  iterations: { type: 'int', default: 400, min: 1, help: 'training iterations (one batch each)' },
  batch: { type: 'int', default: 32, help: 'sequences per iteration' },
  hidden: { type: 'int', default: 64, help: 'units of each SeqLSTM' },
  embed: { type: 'int', default: 16, help: 'size of the token embeddings' },
  lr: { type: 'number', default: 0.01, above: 0, help: 'learning rate of Adam' },
  attention: { type: 'boolean', help: 'soft attention over the encoder outputs at every decoder step' },
  score: {
    type: 'string',
    default: 'general',
    choices: SCORES,
    help: "attention score: Luong's dot, general, concat or Bahdanau's additive",
  },
  evalSize: { type: 'int', default: 500, help: 'held-out sequences decoded greedily for the accuracy' },
  evalEvery: { type: 'int', default: 25, help: 'iterations between evaluations (the accuracy curve)' },
} as const;

export interface Seq2SeqResult {
  readonly device: string;
  readonly task: Task;
  /** The attention score, or null without attention. */
  readonly attention: Score | null;
  /** Training loss per iteration (NLL per decoder step, teacher forcing). */
  readonly losses: number[];
  /** Held-out accuracy of greedy decoding at each evaluation (iteration 0 is before training). */
  readonly evaluations: { iteration: number; exact: number; token: number }[];
  readonly exactMatch: number;
  readonly tokenAccuracy: number;
  readonly itPerSecond: number;
  readonly summary: string;
  readonly files: string[];
}

export const main = exampleMain({
  program: 'seq2seq',
  description: 'an encoder-decoder (coupled SeqLSTMs) learns to reverse or sort digit sequences',
  options: OPTIONS,
  settings: ({ options: o }) => {
    const s = {
      task: o.task as Task,
      length: atLeast(o.length, 1, 'length'),
      digits: atLeast(o.digits, 2, 'digits'),
      iterations: atLeast(o.iterations, 1, 'iterations'),
      batch: atLeast(o.batch, 1, 'batch'),
      hidden: atLeast(o.hidden, 1, 'hidden'),
      embed: atLeast(o.embed, 1, 'embed'),
      lr: o.lr,
      attention: o.attention ? (o.score as Score) : null,
      evalSize: atLeast(o.evalSize, 1, 'evalSize'),
      evalEvery: atLeast(o.evalEvery, 1, 'evalEvery'),
    };
    return s;
  },
  probe: ({ settings: s }) => {
    // The probe: one training step (forward, criterion, backward) of the model at the run's sizes.
    return probeOf(
      'seq2seq',
      { ...sizesOf(s, ['length', 'digits', 'batch', 'embed', 'hidden']), attention: s.attention ?? 'none' },
      (d) => {
        const m = moveTo(buildSeq2Seq(s.digits, s.embed, s.hidden, s.attention), d);
        const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
        const digits = () => indices([s.length, s.batch], s.digits, d);
        const [source, decIn, target] = [digits(), indices([s.length, s.batch], s.digits + 1, d), digits()];
        return {
          step: () => {
            for (const module of m.modules) module.training().zeroGradParameters();
            return trainStep(m, criterion, source, decIn, target);
          },
          dispose: () => {
            for (const module of m.modules) module.dispose();
            for (const t of [source, decIn, target]) t.dispose();
          },
        };
      },
    );
  },
  body: async ({ options: o, settings: s, device, reason }): Promise<Seq2SeqResult> => {
    const go = s.digits; // the GO token follows the digits
    const model = moveTo(buildSeq2Seq(s.digits, s.embed, s.hidden, s.attention), device);
    const params = model.modules.flatMap((m) => m.parameters()[0]);
    const optimizer = new optim.Adam(params, { learningRate: s.lr });
    try {
      console.log(`${describeSeq2Seq(model)}\n`);
      // The held-out set is drawn first, so that it is the same whatever the training length.
      const held = examples(s.task, s.evalSize, s.length, s.digits);
      const evaluate = async (iteration: number) => {
        const { predicted, seconds } = await decode(model, held.source, s.length, go, device);
        return { iteration, ...accuracy(predicted, held.target), predicted, seconds };
      };

      // One criterion per decoder step, added (Torch's SequencerCriterion); the plotted loss is per step.
      const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
      const evaluations = [await evaluate(0)];
      const losses: number[] = [];
      const progress = new Progress(s.iterations);
      let trainSeconds = 0;
      for (let iteration = 1; iteration <= s.iterations; iteration++) {
        const started = performance.now();
        const batch = examples(s.task, s.batch, s.length, s.digits);
        for (const m of model.modules) m.training();
        const loss = tidy(() => {
          optimizer.zeroGrad();
          const err = trainStep(
            model,
            criterion,
            timeMajor(batch.source, device),
            timeMajor(decoderInputs(batch.target, go), device),
            timeMajor(batch.target, device),
          );
          optimizer.step();
          return err.div(s.length);
        });
        losses.push(await loss.item());
        loss.dispose();
        trainSeconds += (performance.now() - started) / 1000;
        progress.update(iteration, losses.at(-1)!);
        if (iteration % s.evalEvery === 0 || iteration === s.iterations) {
          evaluations.push(await evaluate(iteration));
        }
      }
      const last = evaluations.at(-1)!;
      const files = await plot(o.out, s, losses, evaluations);

      const itPerSecond = s.iterations / trainSeconds;
      const shown = held.source
        .slice(0, 3)
        .map(
          (src, b) =>
            `${src.join('')} -> ${last.predicted[b]!.join('')} (${last.predicted[b]!.join() === held.target[b]!.join() ? 'right' : `want ${held.target[b]!.join('')}`})`,
        );
      const text = summary({
        title: 'seq2seq',
        rows: [
          ['device', `${device} (${reason})`],
          ['task', `${s.task} ${s.length} digits of ${s.digits}`],
          [
            'model',
            `SeqLSTM encoder-decoder, hidden ${s.hidden}, embedding ${s.embed}${s.attention ? `, attention (${s.attention})` : ''}; Adam lr ${s.lr}`,
          ],
          [
            'training',
            `${s.iterations} iterations of ${s.batch} in ${trainSeconds.toFixed(1)} s (${itPerSecond.toFixed(1)} it/s)`,
          ],
          [
            'loss',
            `${meanOf(losses, 10, 'first').toFixed(3)} (first 10) -> ${meanOf(losses, 10, 'last').toFixed(3)} (last 10), NLL per step`,
          ],
          [
            'exact match',
            `${pct(last.exact)} of ${s.evalSize} held-out sequences (greedy decoding; ${pct(evaluations[0]!.exact)} before training)`,
          ],
          ['token accuracy', `${pct(last.token)} (chance ${pct(1 / s.digits)})`],
          ['decoding', `${(s.evalSize / last.seconds).toFixed(0)} sequences/s`],
          ...shown.map((line, i) => [i === 0 ? 'examples' : '', line] as const),
        ],
        outDir: o.out,
        files,
      });
      return {
        device,
        task: s.task,
        attention: s.attention,
        losses,
        evaluations: evaluations.map(({ iteration, exact, token }) => ({ iteration, exact, token })),
        exactMatch: last.exact,
        tokenAccuracy: last.token,
        itPerSecond,
        summary: text,
        files,
      };
    } finally {
      optimizer.dispose();
    }
  },
});

/** Greedy decoding of every source sequence at once (no tape); predictions per sequence, and the time it took. */
async function decode(
  model: Seq2Seq,
  source: readonly (readonly number[])[],
  length: number,
  go: number,
  device: Parameters<typeof timeMajor>[1],
) {
  const started = performance.now();
  for (const m of model.modules) m.evaluate();
  const out: Tensor = noGrad(() => tidy(() => greedyDecode(model, timeMajor(source, device), length, go)));
  const flat = await out.data();
  out.dispose();
  const n = source.length;
  const predicted = source.map((_, b) => Array.from({ length }, (_, t) => flat[t * n + b]!));
  return { predicted, seconds: (performance.now() - started) / 1000 };
}

/** The loss curve (log scale, with its moving average) and the held-out accuracy curves. */
async function plot(
  out: string,
  s: { task: Task; length: number; digits: number; iterations: number; attention: Score | null },
  losses: number[],
  evaluations: { iteration: number; exact: number; token: number }[],
): Promise<string[]> {
  const name = `seq2seq (${s.task} ${s.length} digits${s.attention ? `, ${s.attention} attention` : ''})`;
  const at = evaluations.map((e) => e.iteration);
  return [
    ...(await lossChart(
      `${name}: training loss (NLL per decoder step, teacher forcing)`,
      smoothed('loss', losses),
      out,
    )),
    ...(await lineChart(
      {
        title: `${name}: held-out accuracy, greedy decoding`,
        xLabel: 'iteration',
        yLabel: 'accuracy (%)',
        legend: 'bottom-right',
        xFromZero: true,
        series: [
          { name: 'token chance', xs: [0, s.iterations], ys: [100 / s.digits, 100 / s.digits], dashed: true },
          { name: 'exact match', xs: at, ys: evaluations.map((e) => 100 * e.exact) },
          { name: 'token accuracy', xs: at, ys: evaluations.map((e) => 100 * e.token) },
        ],
      },
      path.join(out, 'accuracy'),
    )),
  ];
}

runIfMain(import.meta.url, main);
