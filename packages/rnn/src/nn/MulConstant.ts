import type { Activity } from './activity.js';
import { floatTensor } from './checks.js';
import { WebrnnError, mul } from './deps.js';
import { Module } from './Module.js';

/** y = constant * x (torch's nn.MulConstant). `inplace` is accepted for Torch's signature; the tape never writes in place. */
export class MulConstant extends Module {
  constructor(
    readonly constant: number,
    readonly inplace = false,
  ) {
    super();
    if (typeof constant !== 'number' || Number.isNaN(constant)) {
      throw new WebrnnError('nn.MulConstant', `constant must be a number, got ${String(constant)}`);
    }
  }

  override updateOutput(input: Activity): Activity {
    return mul(floatTensor(input), this.constant);
  }
}
