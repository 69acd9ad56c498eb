import type { Activity } from '../nn/activity.js';
import { WebrnnError, add, tidy } from '../nn/deps.js';
import { Linear } from '../nn/Linear.js';
import { asBatch, likeInput, maskedLinear } from './cells/GatedRecurrent.js';
import { type FastLSTMOptions, fastLSTMOptions } from './cells/fastLSTMOptions.js';
import { LSTMBase } from './cells/LSTMBase.js';
import { lstmStep } from './cells/lstmCell.js';

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
 * The constructor takes Element-research's positional arguments, `new nn.FastLSTM(inputSize, outputSize, rho,
 * eps, momentum, affine, p, mono)`, or an options object as the 4th: `new nn.FastLSTM(D, H, rho, { p, mono })`.
 */
export class FastLSTM extends LSTMBase {
  /**
   * Element-research's class switch `nn.FastLSTM.bn = true` (recurrent batch normalisation for the FastLSTMs
   * built afterwards); not supported yet: such a FastLSTM is refused rather than built without it.
   */
  static bn = false;
  readonly i2g: Linear;
  readonly o2g: Linear;

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
    if (o.bn ?? FastLSTM.bn) {
      throw new WebrnnError(
        'nn.FastLSTM',
        'recurrent batch normalisation (bn) is not supported yet: build it with nn.FastLSTM.bn = false',
      );
    }
    super(inputSize, outputSize, rho, o);
    this.i2g = new Linear(inputSize, 4 * outputSize);
    this.o2g = new Linear(outputSize, 4 * outputSize, false);
    this.add(this.i2g).add(this.o2g);
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const x = this.checkInput(input);
    const [hPrev, cPrev] = this.previous(x, prevState);
    return tidy(() => {
      const xb = asBatch(x);
      const masks = this.dropoutMasks(xb, 4, 4);
      const gates = add(
        maskedLinear(xb, this.i2g, masks?.x ?? null),
        maskedLinear(asBatch(hPrev), this.o2g, masks?.h ?? null),
      );
      const { h, c } = lstmStep(gates, asBatch(cPrev));
      const out = likeInput(x, h);
      return { output: out, state: [out, likeInput(x, c)] };
    });
  }
}
