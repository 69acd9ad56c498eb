import { type Tensor, WebrnnError, narrow, noGrad, randn, tidy } from '../module/deps.js';
import type { FastLSTM } from './FastLSTM.js';
import { SeqLSTM } from './SeqLSTM.js';

/**
 * Element-research's nn.SeqLSTMP(inputSize, hiddenSize, outputSize): SeqLSTM with the projection of Sak et al.
 * (LSTMP) always on,
 *
 *   gates = [x, r_prev] W + b;  c = f ⊙ c_prev + i ⊙ g;  h = o ⊙ tanh(c);  r = h Wo   (Wo = weightO, H x R)
 *
 * so the output and the recurrent input are r [T, N, R] and the cell stays [T, N, H]. It differs from our
 * `new nn.SeqLSTM(D, H, R)` only when R == H: SeqLSTM then has no projection, SeqLSTMP still has one (an H x H
 * weightO, as torch/rnn's later `SeqLSTM(D, H, H)`). Parameters as Torch lists them: weight (D + R) x 4H, bias 4H, weightO H x R.
 * Initialisation as Element-research's reset: weight normal(0, 1/sqrt(D + H)), weightO normal(0, 1/sqrt(H + R)),
 * or both normal(0, std) with reset(std); bias 0 but the forget gate's 1 (see the README's Torch differences for
 * the block Torch fills). Everything else (remember, maskzero, batchfirst, userPrev*, gradPrev*) is SeqLSTM's.
 */
export class SeqLSTMP extends SeqLSTM {
  constructor(inputSize: number, hiddenSize: number, outputSize: number) {
    if (outputSize === undefined) {
      throw new WebrnnError(
        'nn.SeqLSTMP',
        'expected inputSize, hiddenSize and outputSize, got no outputSize',
      );
    }
    super(inputSize, hiddenSize, outputSize);
  }

  protected override alwaysProjects(): boolean {
    return true;
  }

  /** The projection H x R (always present). */
  override get weightO(): Tensor {
    return this.param('weightO');
  }

  override reset(std?: number): this {
    const H = this.hiddenSize;
    noGrad(() =>
      tidy(() => {
        const normal = (p: Tensor, s: number) =>
          p.copy_(randn(p.shape, { dtype: p.dtype, device: p.device }).mul(s));
        normal(this.weight, std ?? 1 / Math.sqrt(this.inputSize + H));
        normal(this.weightO, std ?? 1 / Math.sqrt(H + this.outputSize));
        this.bias.zero_();
        narrow(this.bias, 0, H, H).fill_(1);
      }),
    );
    return this;
  }

  override toFastLSTM(): FastLSTM {
    throw new WebrnnError('nn.SeqLSTMP.toFastLSTM', 'not supported: an LSTMP has no FastLSTM equivalent');
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.hiddenSize} -> ${this.outputSize})`;
  }
}
