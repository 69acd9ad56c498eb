import { expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, fmtShape, select } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Entry `index` of dimension `dimension`, which is removed (torch's nn.Select). Both 0-based; negative values
 * count from the end.
 */
export class Select extends Module<Tensor, Tensor> {
  constructor(
    readonly dimension: number,
    readonly index: number,
  ) {
    super();
    if (!Number.isInteger(dimension) || !Number.isInteger(index)) {
      throw new WebrnnError(
        'nn.Select',
        `dimension and index must be integers, got ${dimension} and ${index}`,
      );
    }
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const d = this.dimension < 0 ? x.rank + this.dimension : this.dimension;
    if (d < 0 || d >= x.rank) {
      throw new WebrnnError(
        'dimension',
        `${this.dimension} is out of range for an input of shape ${fmtShape(x.shape)}`,
      );
    }
    const n = x.shape[d]!;
    const i = this.index < 0 ? n + this.index : this.index;
    if (i < 0 || i >= n) {
      throw new WebrnnError(
        'index',
        `${this.index} is out of range for dimension ${d} of size ${n} (input shape ${fmtShape(x.shape)})`,
      );
    }
    return select(x, d, i);
  }
}
