import { floatTensor } from '../module/checks.js';
import { type Tensor, relu } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * y = max(0, x) (torch's nn.ReLU, i.e. Threshold(0, 0)): the gradient is 0 at x = 0, as Torch's threshold test
 * `x > 0` gives. `inplace` is accepted for Torch's signature; on the tape every op makes a new tensor.
 */
export class ReLU extends Module<Tensor, Tensor> {
  constructor(readonly inplace = false) {
    super();
  }

  override updateOutput(input: Tensor): Tensor {
    return relu(floatTensor(input));
  }
}
