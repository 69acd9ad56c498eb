import { floatTensor } from '../module/checks.js';
import { type Tensor, WebrnnError, hardtanh } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Clamp into [minValue, maxValue] (torch's nn.HardTanh, default [-1, 1]). As in Torch the gradient passes only
 * strictly inside the interval. `inplace` is accepted for Torch's signature and has no effect on the tape.
 */
export class HardTanh extends Module<Tensor, Tensor> {
  constructor(
    readonly minValue = -1,
    readonly maxValue = 1,
    readonly inplace = false,
  ) {
    super();
    if (!(maxValue > minValue)) {
      throw new WebrnnError(
        'nn.HardTanh',
        `maxValue must be larger than minValue, got ${minValue} and ${maxValue}`,
      );
    }
  }

  override updateOutput(input: Tensor): Tensor {
    return hardtanh(floatTensor(input), this.minValue, this.maxValue);
  }
}
