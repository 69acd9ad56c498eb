import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  cast,
  clone,
  div,
  fmtShape,
  mul,
  neg,
  randn,
  reshape,
  square,
  sub,
  sum,
} from '../module/deps.js';
import { Reinforce } from './Reinforce.js';

/**
 * dpnn's nn.ReinforceNormal: the input is the mean of a normal distribution, the output a sample from it (the
 * mean itself in evaluation mode unless `stochastic`). The standard deviation is the constructor's `stdev` (a
 * number, a tensor shaped like the input, or like one example of a batch), or, when `stdev` is omitted, the
 * second entry of an input table {mean, stdev}, which then also gets a REINFORCE gradient. Backward:
 *   d/dmean  = -reward * (x - mean) / stdev^2
 *   d/dstdev = -reward * ((x - mean)^2 - stdev^2) / (stdev^3 + 1e-8)
 */
export class ReinforceNormal extends Reinforce {
  constructor(
    readonly stdev?: number | Tensor,
    stochastic = false,
  ) {
    super(stochastic);
    if (typeof stdev === 'number' && !(stdev > 0 && Number.isFinite(stdev))) {
      throw new WebrnnError('nn.ReinforceNormal', `stdev must be a positive number, got ${stdev}`);
    }
  }

  /** {mean, stdev}, checked: the stdev broadcast to the mean's shape. */
  private parts(input: Activity): [Tensor, Tensor | number] {
    if (Array.isArray(input)) {
      if (input.length !== 2) {
        throw new WebrnnError(
          'input',
          `expected a tensor or a table {mean, stdev}, got ${input.length} entries`,
        );
      }
      const mean = floatTensor(input[0]!, 'input[0]');
      const s = floatTensor(input[1]!, 'input[1]');
      return [mean, this.stdevLike(s, mean)];
    }
    const mean = floatTensor(input);
    if (this.stdev === undefined) {
      throw new WebrnnError(
        'input',
        `is a tensor ${fmtShape(mean.shape)}, but no stdev was given to the constructor: pass a table {mean, stdev}`,
      );
    }
    return [mean, typeof this.stdev === 'number' ? this.stdev : this.stdevLike(this.stdev, mean)];
  }

  /** dpnn: stdev shaped like the mean, or like one example (then viewed with a leading 1 and expanded). */
  private stdevLike(s: Tensor, mean: Tensor): Tensor {
    if (s.shape.join() === mean.shape.join()) return s;
    if (s.rank + 1 === mean.rank && s.shape.join() === mean.shape.slice(1).join()) {
      return reshape(s, [1, ...s.shape]);
    }
    throw new WebrnnError(
      'stdev',
      `has shape ${fmtShape(s.shape)}, expected the mean's ${fmtShape(mean.shape)} or one example's ${fmtShape(mean.shape.slice(1))}`,
    );
  }

  protected override sample(input: Activity): Tensor {
    const [mean, s] = this.parts(input);
    const noise = randn(mean.shape, { dtype: mean.dtype, device: mean.device });
    return add(
      mul(noise, typeof s === 'number' ? s : s.dtype === mean.dtype ? s : cast(s, mean.dtype)),
      mean,
    );
  }

  protected override deterministic(input: Activity): Tensor {
    // Maximum a posteriori: the mean.
    return clone(this.parts(input)[0]);
  }

  protected override reinforceGrad(inputs: readonly Tensor[], x: Tensor, reward: Tensor): Tensor[] {
    const mean = inputs[0]!;
    const s = inputs.length > 1 ? this.stdevLike(inputs[1]!, mean) : this.parts(mean)[1];
    const sd = typeof s === 'number' ? s : s.dtype === mean.dtype ? s : cast(s, mean.dtype);
    const diff = sub(x, mean);
    const gMean = neg(mul(div(diff, typeof sd === 'number' ? sd * sd : square(sd)), reward));
    if (inputs.length === 1) return [gMean];
    const sdT = sd as Tensor;
    const num = sub(square(diff), square(sdT));
    const gStdev = neg(mul(div(num, add(mul(square(sdT), sdT), 1e-8)), reward));
    // A stdev given per example ([D] for a [N, D] mean) collects the gradient of the whole batch.
    const s1 = inputs[1]!;
    return [gMean, s1.rank < mean.rank ? reshape(sum(gStdev, 0), s1.shape) : gStdev];
  }

  override describe(): string {
    return `${this.typeName}(${typeof this.stdev === 'number' ? this.stdev : ''})`;
  }
}
