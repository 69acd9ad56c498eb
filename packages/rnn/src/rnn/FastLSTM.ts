import type { Activity } from '../module/activity.js';
import {
  type Tensor,
  WebrnnError,
  add,
  lstmSequence,
  noGrad,
  reshape,
  select,
  tidy,
  transpose,
} from '../module/deps.js';
import type { SequenceResult } from './AbstractRecurrent.js';
import { Add } from '../nn/Add.js';
import { Linear } from '../nn/Linear.js';
import { asBatch, likeInput, maskedLinear } from './cells/GatedRecurrent.js';
import { type FastLSTMOptions, fastLSTMOptions } from './cells/fastLSTMOptions.js';
import { LSTMBase } from './cells/LSTMBase.js';
import { lstmStep } from './cells/lstmCell.js';
import { RecurrentBatchNorm, batchNormLstmStep } from './cells/RecurrentBatchNorm.js';

/**
 * Element-research's nn.FastLSTM: an LSTM without peepholes whose four gates come from two affine maps,
 *
 *   gates = i2g(x) + o2g(h_prev)   ([N, 4H]: input gate, candidate, forget gate, output gate)
 *   i, z, f, o = σ, tanh, σ, σ of the four blocks;  c = f ⊙ c_prev + i ⊙ z;  h = o ⊙ tanh(c)
 *
 * with i2g = nn.Linear(inputSize, 4*outputSize) and o2g = nn.Linear(outputSize, 4*outputSize) without bias, in
 * Torch's layout and initialisation (uniform ±1/sqrt(fan-in); no special forget-gate bias), so their weights port
 * from Torch as they are. The state is [h, c], the output h. One `forward` is one time step (see
 * AbstractRecurrent); inputs are [N, inputSize] or one sample [inputSize].
 *
 * Variational dropout (Gal & Ghahramani; see GatedRecurrent): `p` > 0 gives each of the four gates its own mask
 * on the input and on the previous output, drawn once per sequence (`mono`: one mask for the whole batch). Torch
 * splits i2g and o2g into four Linears when p > 0; here they stay whole (gate k is rows k*H..(k+1)*H-1 of the
 * weight and bias), so weights port by blocks.
 *
 * Recurrent batch normalisation (Cooijmans et al. 2016, as Element-research's FastLSTM with `bn`: the class switch
 * `nn.FastLSTM.bn = true`, or `{ bn: true }`): the input and recurrent terms are normalised separately, a bias
 * added after the recurrent one, and the cell normalised before its tanh (the state keeps the raw cell):
 *
 *   gates = BN_wx(i2g(x)) + BN_wh(o2g(h_prev)) + b;  c = f ⊙ c_prev + i ⊙ z;  h = o ⊙ tanh(BN_c(c))
 *
 * with torch/nn's BatchNormalization (eps 1e-5, momentum 0.1, affine with the scale filled with 0.1 by default;
 * see cells/RecurrentBatchNorm.ts): batch statistics in training (N >= 2), the running statistics, shared by all
 * steps, in evaluate(). Batches only ([N, inputSize]).
 *
 * The constructor takes Element-research's positional arguments, `new nn.FastLSTM(inputSize, outputSize, rho,
 * eps, momentum, affine, p, mono)`, or an options object as the 4th: `new nn.FastLSTM(D, H, rho, { p, mono })`.
 */
export class FastLSTM extends LSTMBase {
  /**
   * Element-research's class switch: `nn.FastLSTM.bn = true` gives the FastLSTMs built afterwards recurrent batch
   * normalisation (the `bn` option does it for one).
   */
  static bn = false;
  readonly i2g: Linear;
  readonly o2g: Linear;
  /** Whether this FastLSTM has recurrent batch normalisation. */
  readonly bn: boolean;
  /** With bn: the normalisations of i2g(x) [4H], of o2g(h_prev) [4H] and of the cell [H], and o2g's bias [4H]. */
  readonly bnWx: RecurrentBatchNorm | null = null;
  readonly bnWh: RecurrentBatchNorm | null = null;
  readonly biasWh: Add | null = null;
  readonly bnC: RecurrentBatchNorm | null = null;

  constructor(
    inputSize: number,
    outputSize: number,
    rho?: number,
    epsOrOptions?: number | FastLSTMOptions | null,
    momentum?: number | null,
    affine?: boolean | null,
    p?: number | null,
    mono?: boolean | null,
  ) {
    const o = fastLSTMOptions(epsOrOptions, momentum, affine, p, mono);
    super(inputSize, outputSize, rho, o);
    this.i2g = new Linear(inputSize, 4 * outputSize);
    this.o2g = new Linear(outputSize, 4 * outputSize, false);
    this.add(this.i2g).add(this.o2g);
    this.bn = o.bn ?? FastLSTM.bn;
    if (this.bn) {
      const H = outputSize;
      const norm = (size: number) => new RecurrentBatchNorm(size, o.eps, o.momentum, o.affine ?? true);
      this.bnWx = norm(4 * H);
      this.bnWh = norm(4 * H);
      this.biasWh = new Add(4 * H);
      this.bnC = norm(H);
      this.add(this.bnWx).add(this.bnWh).add(this.biasWh).add(this.bnC);
    }
  }

  /**
   * A whole sequence [T, N, inputSize] (from a Sequencer) as one lstmSequence: i2g over all steps in one matmul,
   * then the recurrence with o2g's weight. Not with batch normalisation (per-step statistics) or dropout in
   * training (per-step masks), nor for inputs the step path must refuse (it gives the errors).
   */
  protected override canForwardSequence(x: Tensor): boolean {
    return !this.bn && this.fitsSequence(x);
  }

  protected override sequenceForward(x: Tensor, prevState: Activity | null): SequenceResult {
    const [T, N] = x.shape as [number, number, number];
    const H = this.outputSize;
    const [h0, c0] = noGrad(() => this.previous(select(x, 0, 0), prevState));
    return tidy(() => {
      const gx = reshape(maskedLinear(reshape(x, [T * N, this.inputSize]), this.i2g, null), [T, N, 4 * H]);
      const [out, cs] = lstmSequence(gx, transpose(this.o2g.weight, 0, 1), h0, c0, { order: 'izfo' });
      const steps = Array.from({ length: T }, (_, t) => {
        const h = select(out, 0, t);
        return { output: h, state: [h, select(cs, 0, t)] };
      });
      return { output: out, steps };
    });
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const x = this.checkInput(input);
    const [hPrev, cPrev] = this.previous(x, prevState);
    if (this.bn && x.rank === 1) {
      throw new WebrnnError(
        'input',
        `has shape [${this.inputSize}]: batch normalisation needs a batch [N, ${this.inputSize}]`,
      );
    }
    return tidy(() => {
      const xb = asBatch(x);
      const masks = this.dropoutMasks(xb, 4, 4);
      const wx = maskedLinear(xb, this.i2g, masks?.x ?? null);
      const wh = maskedLinear(asBatch(hPrev), this.o2g, masks?.h ?? null);
      if (this.bn) {
        const { h, c } = batchNormLstmStep(this, wx, wh, cPrev);
        return { output: h, state: [h, c] };
      }
      const { h, c } = lstmStep(add(wx, wh), asBatch(cPrev));
      const out = likeInput(x, h);
      return { output: out, state: [out, likeInput(x, c)] };
    });
  }
}
