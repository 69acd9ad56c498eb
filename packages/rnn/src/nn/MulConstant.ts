import { floatTensor } from '../module/checks.js';
import { type Tensor, WebrnnError, mul } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** y = constant * x (torch's nn.MulConstant). `inplace` is accepted for Torch's signature; the tape never writes in place. */
export class MulConstant extends Module<Tensor, Tensor> {
  constructor(
    readonly constant: number,
    readonly inplace = false,
  ) {
    super();
    if (typeof constant !== 'number' || Number.isNaN(constant)) {
      throw new WebrnnError('nn.MulConstant', `constant must be a number, got ${String(constant)}`);
    }
  }

  override updateOutput(input: Tensor): Tensor {
    return mul(floatTensor(input), this.constant);
  }
}
