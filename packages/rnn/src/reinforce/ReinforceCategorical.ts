import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  arange,
  clone,
  div,
  eq,
  fmtShape,
  le,
  matmul,
  mul,
  narrow,
  neg,
  sum,
  tensor,
  uniform,
} from '../module/deps.js';
import { Reinforce } from './Reinforce.js';

/**
 * dpnn's nn.ReinforceCategorical: the input [N, K] holds the probabilities of K categories (rows need not be
 * normalised, as torch.multinomial), the output is a one-hot sample [N, K]; in evaluation mode (unless
 * `stochastic`) the output is the probabilities themselves, as dpnn. Backward (the derivative of the log
 * probability of the sampled category): -reward * output / (p + 1e-8).
 */
export class ReinforceCategorical extends Reinforce {
  private probs(input: Activity): Tensor {
    const p = floatTensor(input);
    if (p.rank !== 2 || p.shape[1] === 0) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(p.shape)}, expected a batch of probabilities [N, K] with K >= 1`,
      );
    }
    if (p.backend.canReadSync && p.dataSync().some((v) => !(v >= 0))) {
      throw new WebrnnError('input', 'holds a negative (or NaN) probability: expected probabilities >= 0');
    }
    return p;
  }

  protected override sample(input: Activity): Tensor {
    const p = this.probs(input);
    const [n, k] = p.shape as [number, number];
    const opts = { dtype: p.dtype, device: p.device };
    // Inverse CDF on the device: cdf = p @ upper-triangular ones; the sample is the number of cdf entries <= u.
    const tri: number[][] = [];
    for (let i = 0; i < k; i++) tri.push(Array.from({ length: k }, (_, j) => (j >= i ? 1 : 0)));
    const cdf = matmul(p, tensor(tri, opts));
    const u = mul(uniform([n, 1], 0, 1, opts), narrow(cdf, 1, k - 1, 1));
    const index = sum(le(cdf, u), 1, { keepdim: true });
    return eq(arange(k, undefined, 1, opts).reshape([1, k]), index);
  }

  protected override deterministic(input: Activity): Tensor {
    return clone(this.probs(input));
  }

  protected override reinforceGrad(inputs: readonly Tensor[], x: Tensor, reward: Tensor): Tensor[] {
    // dpnn adds 1e-8 so that an unlikely category never divides by zero.
    return [neg(mul(div(x, add(inputs[0]!, 1e-8)), reward))];
  }
}
