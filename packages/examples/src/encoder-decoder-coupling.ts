/**
 * Element-research's examples/encoder-decoder-coupling.lua: "coupled" separate encoder and decoder networks, as
 * for sequence-to-sequence learning. The encoder LookupTableMaskZero -> LSTM -> last step reads a left-padded
 * sentence; the decoder LookupTableMaskZero -> LSTM -> MaskZero(Linear) -> MaskZero(LogSoftMax) starts from the
 * encoder's last output and cell, reads GO and the target sentence (right-padded) and predicts it followed by EOS,
 * scored by SequencerCriterion(MaskZeroCriterion(ClassNLLCriterion)); both are trained by plain SGD. The data are
 * the script's two sentences. --coupling picks how the state and its gradient cross (shared/coupling.ts): the
 * SeqLSTM fields userPrevOutput/userPrevCell and gradPrevOutput/userNextGradCell (the script's useSeqLSTM = true),
 * or LSTMs in Sequencers and setHiddenState/getGradHiddenState/setGradHiddenState (useSeqLSTM = false).
 *
 *   node packages/examples/dist/encoder-decoder-coupling.js [--coupling userPrev|state] ...   (--help)
 */
import { type DeviceName, type Tensor, argmax, nn, noGrad, tensor } from '@webrnn/rnn';
import { COUPLINGS, type Coupling } from './shared/coupling.js';
import {
  type EncoderDecoder,
  buildEncoderDecoder,
  coupledForward,
  coupledStep,
  moveTo,
} from './encoder-decoder-coupling/model.js';
import { exampleMain, runIfMain } from './shared/runExample.js';
import { probeOf } from './shared/probe.js';
import { lossChart, smoothed } from './shared/plot.js';
import { summary, trainingRow } from './shared/summary.js';
import { trainLoop } from './shared/trainLoop.js';

// The script's opt table is the defaults.
const OPTIONS = {
  coupling: {
    type: 'string',
    default: 'userPrev',
    choices: COUPLINGS,
    help: 'userPrev: SeqLSTM fields (Lua useSeqLSTM = true); state: LSTM + hidden-state API (false)',
  },
  iterations: { type: 'int', default: 1000, min: 1, help: 'training iterations (Lua: niter 1000)' },
  hidden: { type: 'int', default: 6, min: 1, help: 'size of the embeddings and LSTMs (Lua: hiddenSize 6)' },
  layers: { type: 'int', default: 1, min: 1, help: 'LSTM layers of each network (Lua: numLayers 1)' },
  lr: { type: 'number', default: 0.1, above: 0, help: 'learning rate of updateParameters (Lua: 0.1)' },
} as const;

/** The script's data: vocabulary 1..7, where 6 is GO and 7 is EOS; 0 is padding. */
export const VOCAB_SIZE = 7;
const [GO, EOS] = [6, 7];
/** The input sentences to the encoder, padded with zeros from the left. */
export const ENC_IN = [
  [0, 0, 0, 0, 1, 2, 3],
  [0, 0, 0, 4, 3, 2, 1],
];
/** The input sentences to the decoder (GO first), padded with zeros from the right. */
export const DEC_IN = [
  [GO, 1, 2, 3, 4, 0, 0, 0],
  [GO, 5, 4, 3, 2, 1, 0, 0],
];
/** The expected output from the decoder (EOS last), padded with zeros from the right. */
export const DEC_OUT = [
  [1, 2, 3, 4, EOS, 0, 0, 0],
  [5, 4, 3, 2, 1, EOS, 0, 0],
];

export interface EncoderDecoderCouplingResult {
  readonly device: string;
  readonly coupling: Coupling;
  readonly losses: number[];
  /** The decoder's most likely token at each real step of each sentence (teacher forcing), after training. */
  readonly predicted: number[][];
  readonly stopped: boolean;
  readonly summary: string;
  readonly files: string[];
}

/** Sentences (one per row) as the time-major int32 tensor [T, N] the networks read (the script's `:t()`). */
export function timeMajor(rows: readonly (readonly number[])[], device: DeviceName): Tensor {
  const [N, T] = [rows.length, rows[0]!.length];
  const flat = new Int32Array(T * N);
  rows.forEach((r, b) => r.forEach((v, t) => (flat[t * N + b] = v)));
  return tensor(flat, { shape: [T, N], dtype: 'int32', device });
}

/** The criterion of the script, with its padding also given as an explicit CPU mask (so that it runs on WebGPU). */
export function makeCriterion(decOut: readonly (readonly number[])[]): nn.SequencerCriterion {
  const criterion = new nn.SequencerCriterion(new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(), 1));
  const mask = timeMajor(
    decOut.map((r) => r.map((v) => (v === 0 ? 1 : 0))),
    'cpu',
  );
  criterion.setZeroMask(mask);
  mask.dispose(); // the criterion keeps a handle of its own
  return criterion;
}

/** ClassNLLCriterion's 0-based classes: token - 1 (padded steps are masked: any class will do). */
export const classes = (rows: readonly (readonly number[])[], device: DeviceName): Tensor =>
  timeMajor(
    rows.map((r) => r.map((v) => Math.max(v - 1, 0))),
    device,
  );

export const main = exampleMain({
  program: 'encoder-decoder-coupling',
  description: "Element-research's encoder-decoder-coupling.lua: coupled encoder and decoder LSTMs",
  options: OPTIONS,
  settings: ({ options }) => options.coupling as Coupling,
  probe: ({ options: o, settings: coupling }) => {
    // The probe: one coupled training step on the script's sentences.
    return probeOf('encoder-decoder-coupling', { coupling, hidden: o.hidden, layers: o.layers }, (d) => {
      const m = moveTo(buildEncoderDecoder(coupling, VOCAB_SIZE, o.hidden, o.layers), d);
      const criterion = makeCriterion(DEC_OUT);
      const data = [timeMajor(ENC_IN, d), timeMajor(DEC_IN, d), classes(DEC_OUT, d)] as const;
      return {
        step: () => {
          for (const net of [m.enc, m.dec]) net.training().zeroGradParameters();
          return coupledStep(m, criterion, ...data);
        },
        dispose: () => {
          m.enc.dispose();
          m.dec.dispose();
          criterion.dispose();
          for (const t of data) t.dispose();
        },
      };
    });
  },
  body: async ({ options: o, settings: coupling, device, reason }): Promise<EncoderDecoderCouplingResult> => {
    const m = moveTo(buildEncoderDecoder(coupling, VOCAB_SIZE, o.hidden, o.layers), device);
    console.log(`encoder: ${m.enc}\ndecoder: ${m.dec}\n`);
    const criterion = makeCriterion(DEC_OUT);
    const [encInSeq, decInSeq, decOutSeq] = [
      timeMajor(ENC_IN, device),
      timeMajor(DEC_IN, device),
      classes(DEC_OUT, device),
    ];
    m.enc.training();
    m.dec.training();
    const r = await trainLoop('training', o.iterations, () => {
      m.enc.zeroGradParameters();
      m.dec.zeroGradParameters();
      // forward, forwardConnect, criterion, backward, backwardConnect, encoder backward from zeros
      const err = coupledStep(m, criterion, encInSeq, decInSeq, decOutSeq);
      m.dec.updateParameters(o.lr);
      m.enc.updateParameters(o.lr);
      return err;
    });
    const predicted = await predict(m, encInSeq, decInSeq);
    for (const t of [encInSeq, decInSeq, decOutSeq]) t.dispose();
    criterion.dispose();

    const files = await lossChart(
      `encoder-decoder-coupling (${coupling}): training loss (NLL summed over the decoder steps)`,
      smoothed('loss', r.losses),
      o.out,
    );
    const shown = (tokens: readonly number[]) => tokens.map((v) => (v === EOS ? 'EOS' : String(v))).join(' ');
    const text = summary({
      title: 'encoder-decoder-coupling',
      rows: [
        ['device', `${device} (${reason})`],
        [
          'coupling',
          coupling === 'userPrev'
            ? 'SeqLSTM userPrevOutput/userPrevCell, gradPrevOutput/userNextGradCell'
            : 'LSTM setHiddenState, getGradHiddenState/setGradHiddenState',
        ],
        ['model', `${o.layers} LSTM layer(s) of ${o.hidden} in each network; SGD lr ${o.lr}`],
        trainingRow(r.losses.length, r.seconds, { stopped: r.stopped }),
        ['loss', `${r.losses[0]!.toFixed(4)} (first) -> ${r.losses.at(-1)!.toFixed(4)} (last), NLL`],
        ...ENC_IN.map(
          (src, b) =>
            [
              b === 0 ? 'decoded' : '',
              `${shown(src.filter((v) => v > 0))} -> ${shown(predicted[b]!)} (want ${shown(DEC_OUT[b]!.filter((v) => v > 0))})`,
            ] as const,
        ),
      ],
      outDir: o.out,
      files,
    });
    return { device, coupling, losses: r.losses, predicted, stopped: r.stopped, summary: text, files };
  },
});

/** The decoder's most likely tokens at the real steps of each sentence, reading the true previous tokens. */
async function predict(m: EncoderDecoder, encIn: Tensor, decIn: Tensor): Promise<number[][]> {
  const best = noGrad(() => {
    const logProbs = coupledForward(m, encIn, decIn); // [T, N, vocab]
    const out = argmax(logProbs, -1);
    logProbs.dispose();
    return out;
  });
  const flat = await best.data();
  best.dispose();
  const N = DEC_OUT.length;
  return DEC_OUT.map((row, b) => row.flatMap((v, t) => (v > 0 ? [flat[t * N + b]! + 1] : [])));
}

runIfMain(import.meta.url, main);
