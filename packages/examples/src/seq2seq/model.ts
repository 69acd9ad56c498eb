import {
  type Activity,
  type DeviceName,
  type Tensor,
  argmax,
  full,
  nn,
  reshape,
  select,
  stack,
  zerosLike,
} from '@webrnn/rnn';
import { backwardConnect, forwardConnect } from '../shared/coupling.js';

/**
 * Element-research's encoder-decoder coupling (examples/encoder-decoder-coupling.lua with useSeqLSTM; the
 * `userPrev` coupling of shared/coupling.ts) with separate encoder and decoder SeqLSTMs: the decoder starts from
 * the encoder's last output and cell,
 *
 *   dec.userPrevOutput = enc.output[S-1];  dec.userPrevCell = enc.cell[S-1]
 *
 * and after the decoder's backward its gradients with respect to those states go back into the encoder,
 *
 *   enc.gradPrevOutput = dec.userGradPrevOutput;  enc.userNextGradCell = dec.userGradPrevCell
 *
 * then enc.backward(x, zeros) (plus, with attention, the gradient of the encoder outputs that the attention read).
 *
 * The stages are kept as separate modules and their backward calls chained by hand (the attention reads the
 * encoder's outputs, not only its last state). A SeqLSTM inside a Sequential couples as well: a backward through
 * a container stops at its initial states (the encoder-decoder-coupling example couples whole Sequentials).
 */
export interface Seq2Seq {
  readonly encEmbed: nn.LookupTable;
  readonly encLSTM: nn.SeqLSTM;
  readonly decEmbed: nn.LookupTable;
  readonly decLSTM: nn.SeqLSTM;
  /** Decoder outputs [T, N, H] (with attention: [them, encoder outputs [S, N, H]]) -> T steps of log-probs [N, V]. */
  readonly head: nn.Module;
  readonly attention: boolean;
  readonly modules: readonly nn.Module[];
}

/** The scores of soft attention: Luong's dot, general and concat (nn.DotAttention), Bahdanau's additive. */
export const SCORES = ['dot', 'general', 'concat', 'additive'] as const;
export type Score = (typeof SCORES)[number];

/**
 * Soft attention of every decoder output over the encoder outputs: [query [T, N, H], keys [S, N, H]] ->
 * [context [T, N, H], weights [T, N, S]].
 */
function makeAttention(hidden: number, score: Score): nn.Module {
  return score === 'additive'
    ? new nn.AdditiveAttention(hidden, hidden)
    : new nn.DotAttention(hidden, hidden, score);
}

/**
 * Tokens 0..digits-1 and GO (= digits) are embedded in `embed` dimensions; both LSTMs have `hidden` units. The
 * output layer is Linear(H, V) -> LogSoftMax at each step, or with attention Luong's attentional layer,
 * tanh(Wc [h(t); context(t)]) -> Linear(H, V) -> LogSoftMax, where context(t) is the encoder outputs
 * weighted by their attention to the decoder output h(t) (`attention` names the score; null: none).
 */
export function buildSeq2Seq(
  digits: number,
  embed: number,
  hidden: number,
  attention: Score | null,
): Seq2Seq {
  const tokens = digits + 1;
  const encEmbed = new nn.LookupTable(tokens, embed);
  const encLSTM = new nn.SeqLSTM(embed, hidden);
  const decEmbed = new nn.LookupTable(tokens, embed);
  const decLSTM = new nn.SeqLSTM(embed, hidden);
  const head = new nn.Sequential();
  if (attention) {
    head
      .add(
        new nn.ConcatTable()
          .add(new nn.SelectTable(0)) // h(t)
          .add(new nn.Sequential().add(makeAttention(hidden, attention)).add(new nn.SelectTable(0))), // context(t)
      )
      .add(new nn.JoinTable(-1)) // [T, N, 2H]
      .add(new nn.SplitTable(0))
      .add(
        new nn.Sequencer(
          new nn.Sequential()
            .add(new nn.Linear(2 * hidden, hidden))
            .add(new nn.Tanh())
            .add(new nn.Linear(hidden, digits))
            .add(new nn.LogSoftMax()),
        ),
      );
  } else {
    head
      .add(new nn.SplitTable(0))
      .add(new nn.Sequencer(new nn.Sequential().add(new nn.Linear(hidden, digits)).add(new nn.LogSoftMax())));
  }
  return {
    encEmbed,
    encLSTM,
    decEmbed,
    decLSTM,
    head,
    attention: attention !== null,
    modules: [encEmbed, encLSTM, decEmbed, decLSTM, head],
  };
}

export function moveTo(m: Seq2Seq, device: DeviceName): Seq2Seq {
  for (const module of m.modules) module.to(device);
  return m;
}

export function describeSeq2Seq(m: Seq2Seq): string {
  return [
    `encoder: ${m.encEmbed} -> ${m.encLSTM}`,
    `decoder: ${m.decEmbed} -> ${m.decLSTM} (starts from the encoder's last output and cell)`,
    `output:  ${m.head}`,
  ].join('\n');
}

/** Encode source [S, N]: the encoder's outputs [S, N, H]; its last output and cell start the decoder. */
function encode(m: Seq2Seq, source: Tensor): Tensor {
  const encOut = m.encLSTM.forward(m.encEmbed.forward(source)) as Tensor;
  forwardConnect('userPrev', [m.encLSTM], [m.decLSTM]); // userPrevOutput/userPrevCell = the last step's
  return encOut;
}

/** The head's input: the decoder outputs, and with attention the encoder outputs it attends over. */
const headInput = (m: Seq2Seq, decOut: Tensor, encOut: Tensor): Activity =>
  m.attention ? [decOut, encOut] : decOut;

/**
 * One teacher-forced forward and backward: source [S, N], decoder inputs [T, N] (GO, then the target shifted),
 * target [T, N]. Accumulates every gradient and returns the loss summed over the T steps.
 */
export function trainStep(
  m: Seq2Seq,
  criterion: nn.Criterion,
  source: Tensor,
  decIn: Tensor,
  target: Tensor,
): Tensor {
  // Forward: encoder, coupling, decoder, output layer, criterion.
  const encOut = encode(m, source);
  const decEmb = m.decEmbed.forward(decIn) as Tensor;
  const decOut = m.decLSTM.forward(decEmb) as Tensor;
  const input = headInput(m, decOut, encOut);
  const logProbs = m.head.forward(input);
  const loss = criterion.forward(logProbs, target);

  // Backward, stage by stage in reverse order.
  const gradHead = m.head.backward(input, criterion.backward(logProbs, target));
  const [gradDecOut, gradEncOut] = m.attention
    ? (gradHead as Tensor[])
    : [gradHead as Tensor, zerosLike(encOut)]; // without attention only the last state reaches the encoder
  m.decEmbed.backward(decIn, m.decLSTM.backward(decEmb, gradDecOut!) as Tensor);
  // Backward coupling: the decoder's gradients with respect to its initial states go to the encoder's last step.
  backwardConnect('userPrev', [m.encLSTM], [m.decLSTM]); // gradPrevOutput/userNextGradCell
  m.encEmbed.backward(source, m.encLSTM.backward(m.encEmbed.output!, gradEncOut!) as Tensor);
  return loss;
}

/**
 * Greedy decoding of source [S, N] into T tokens each (call under noGrad, in evaluation mode): the decoder runs
 * one step at a time from GO, each step starting from the previous step's output and cell and reading the token
 * it predicted last. Returns the predictions [T, N] (int32).
 */
export function greedyDecode(m: Seq2Seq, source: Tensor, T: number, go: number): Tensor {
  const N = source.shape[1]!;
  const encOut = encode(m, source);
  let token = full([1, N], go, { dtype: 'int32', device: source.device });
  const predicted: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const decOut = m.decLSTM.forward(m.decEmbed.forward(token)) as Tensor; // [1, N, H]
    const [logProbs] = m.head.forward(headInput(m, decOut, encOut)) as Tensor[];
    token = reshape(argmax(logProbs!, -1), [1, N]);
    predicted.push(select(token, 0, 0));
    // The next step starts where this one ended.
    m.decLSTM.userPrevOutput = select(decOut, 0, 0);
    m.decLSTM.userPrevCell = select(m.decLSTM.cell!, 0, 0);
  }
  // The last step's states would otherwise start the next forward.
  m.decLSTM.userPrevOutput = null;
  m.decLSTM.userPrevCell = null;
  return stack(predicted);
}
