import { type DeviceName, type Tensor, nn, noGrad, uniform } from '@webrnn/rnn';

/**
 * The two language models of Element-research's examples, built as they build them:
 *
 * - recurrent-language-model.lua: LookupTable -> [Dropout] -> SplitTable -> Sequencer(step module), the step
 *   module being the recurrent layers (FastLSTM, GRU, or a plain Recurrence of Linear + Sigmoid), each with its
 *   Dropout, then Linear -> LogSoftMax; ClassNLLCriterion on every step.
 * - noise-contrastive-estimate.lua (--nce): LookupTable -> [Dropout] -> SeqLSTM layers (SeqGRU with --gru) ->
 *   SplitTable, beside an Identity for the targets, zipped step by step into Sequencer(NCEModule);
 *   NCECriterion on every step. dpnn's LookupTableMaskZero/MaskZero are left out: this corpus has no padding.
 */
export type Cell = 'lstm' | 'gru' | 'mfru' | 'rnn';

export interface LmConfig {
  readonly vocab: number;
  readonly inputsize: number;
  readonly hiddensize: readonly number[];
  readonly cell: Cell;
  /** FastLSTM's recurrent batch normalisation (--bn, with --lstm). */
  readonly bn: boolean;
  readonly dropout: number;
  /** NCE instead of the full softmax: noise samples per step, Z (<= 0: estimated), the unigram frequencies. */
  readonly nce: { readonly k: number; readonly Z: number; readonly unigrams: Float64Array } | null;
  /** Every parameter uniform in [-uniform, uniform] when > 0 (else each module's own initialisation). */
  readonly uniform: number;
}

export interface LanguageModel {
  readonly net: nn.Sequential;
  /** The output layer with --nce. */
  readonly nce: nn.NCEModule | null;
  /** The training loss: NLL of the log-softmax, or NCE's. */
  readonly criterion: nn.SequencerCriterion;
  /** The NLL of every step (perplexity): the log-softmax's, or NCEModule's normalized log-softmax in evaluate(). */
  readonly nll: nn.SequencerCriterion;
  /** Targets [T, N] to a table of T tensors [N] (the examples' targetmodule). */
  readonly targetmodule: nn.SplitTable;
}

/** One recurrent layer of the step module (recurrent-language-model.lua). */
function stepLayer(c: LmConfig, inputSize: number, hidden: number, first: boolean): nn.Module {
  if (c.cell === 'gru') return new nn.GRU(inputSize, hidden, undefined, c.dropout / 2); // GRU has its own dropout
  if (c.cell === 'lstm') return new nn.FastLSTM(inputSize, hidden, undefined, { bn: c.bn });
  if (c.cell === 'mfru') return new nn.MuFuRu(inputSize, hidden);
  // The simple RNN: h[t] = sigmoid(W x[t] + U h[t-1]); the embedding is the input layer of the first one.
  const inputLayer = first && inputSize === hidden ? new nn.Identity() : new nn.Linear(inputSize, hidden);
  const rm = new nn.Sequential()
    .add(new nn.ParallelTable().add(inputLayer).add(new nn.Linear(hidden, hidden)))
    .add(new nn.CAddTable())
    .add(new nn.Sigmoid());
  return new nn.Recurrence(rm, hidden, 1);
}

export function buildLanguageModel(c: LmConfig, device: DeviceName): LanguageModel {
  const body = new nn.Sequential().add(new nn.LookupTable(c.vocab, c.inputsize));
  // recurrent-language-model.lua leaves this Dropout out for GRUs (they drop their own inputs).
  if (c.dropout > 0 && (c.nce || c.cell !== 'gru')) body.add(new nn.Dropout(c.dropout));
  let inputSize = c.inputsize;
  let net: nn.Sequential;
  let nce: nn.NCEModule | null = null;
  if (!c.nce) {
    body.add(new nn.SplitTable(0));
    const step = new nn.Sequential();
    c.hiddensize.forEach((h, i) => {
      step.add(stepLayer(c, inputSize, h, i === 0));
      if (c.dropout > 0) step.add(new nn.Dropout(c.dropout));
      inputSize = h;
    });
    step.add(new nn.Linear(inputSize, c.vocab)).add(new nn.LogSoftMax());
    net = body.add(new nn.Sequencer(step));
    // Remember the states from one chunk to the next (the plain RNN only in evaluation, as in the example).
    net.remember(c.cell === 'rnn' ? 'eval' : 'both');
  } else {
    for (const h of c.hiddensize) {
      body.add(c.cell === 'gru' ? new nn.SeqGRU(inputSize, h) : new nn.SeqLSTM(inputSize, h));
      if (c.dropout > 0) body.add(new nn.Dropout(c.dropout));
      inputSize = h;
    }
    body.add(new nn.SplitTable(0));
    nce = new nn.NCEModule(inputSize, c.vocab, c.nce.k, c.nce.unigrams, c.nce.Z);
    // NCE needs {input, target}: {{x1, x2, ...}, {t1, t2, ...}} -> {{x1, t1}, {x2, t2}, ...}.
    net = new nn.Sequential()
      .add(new nn.ParallelTable().add(body).add(new nn.Identity()))
      .add(new nn.ZipTable())
      .add(new nn.Sequencer(nce));
    net.remember('both');
    // Used only in evaluate(): the perplexity from the full log-softmax, as evaluate-rnnlm.lua sets them.
    nce.normalized = true;
    nce.logsoftmax = true;
  }
  if (c.uniform > 0) {
    noGrad(() => {
      for (const p of net.parameters()[0]) {
        const r = uniform(p.shape, -c.uniform, c.uniform, { dtype: p.dtype });
        p.copy_(r);
        r.dispose();
      }
    });
  }
  const criterion = new nn.SequencerCriterion(c.nce ? new nn.NCECriterion() : new nn.ClassNLLCriterion());
  return {
    net: net.to(device),
    nce,
    criterion,
    nll: new nn.SequencerCriterion(new nn.ClassNLLCriterion()),
    targetmodule: new nn.SplitTable(0),
  };
}

/** The model's input for one chunk: the ids, and with NCE the targets too. */
export function modelInput(
  model: LanguageModel,
  x: Tensor,
  targets: Tensor[],
): Tensor | (Tensor | Tensor[])[] {
  return model.nce ? [x, targets] : x;
}

/** A one-line description, e.g. `LookupTable(2000, 64) -> Sequencer(FastLSTM(64)) -> Linear -> LogSoftMax`. */
export function describeModel(c: LmConfig): string {
  const layers = c.hiddensize.join(', ');
  const drop = c.dropout > 0 ? `, dropout ${c.dropout}` : '';
  if (c.nce) {
    const seq = c.cell === 'gru' ? 'SeqGRU' : 'SeqLSTM';
    return `LookupTable(${c.vocab}, ${c.inputsize}) -> ${seq}(${layers}) -> NCEModule(k ${c.nce.k})${drop}`;
  }
  const cell = {
    lstm: c.bn ? 'FastLSTM with batch normalisation' : 'FastLSTM',
    gru: 'GRU',
    mfru: 'MuFuRu',
    rnn: 'Recurrence (sigmoid RNN)',
  }[c.cell];
  return `LookupTable(${c.vocab}, ${c.inputsize}) -> Sequencer(${cell}(${layers}) -> Linear -> LogSoftMax)${drop}`;
}
