import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import { type Tensor, affine, clone, div, lt, mul, neg, sub, uniform } from '../module/deps.js';
import { Reinforce } from './Reinforce.js';

/**
 * dpnn's nn.ReinforceBernoulli: the input holds probabilities p of a 1, the output a 0/1 sample of the same
 * shape (p itself in evaluation mode unless `stochastic`). Backward: -reward * (x - p) / (p (1 - p)).
 */
export class ReinforceBernoulli extends Reinforce {
  protected override sample(input: Activity): Tensor {
    const p = floatTensor(input);
    return lt(uniform(p.shape, 0, 1, { dtype: p.dtype, device: p.device }), p);
  }

  protected override deterministic(input: Activity): Tensor {
    return clone(floatTensor(input));
  }

  protected override reinforceGrad(inputs: readonly Tensor[], x: Tensor, reward: Tensor): Tensor[] {
    const p = inputs[0]!;
    return [neg(mul(div(sub(x, p), mul(p, affine(p, -1, 1))), reward))];
  }
}
