import { type Activity, expectTensor } from '../module/activity.js';
import { tableDim } from '../module/checks.js';
import { type Tensor, WebrnnError, unbind } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Splits a tensor into a table of its slices along `dimension` (torch's nn.SplitTable): each slice drops that
 * dimension. 0-based; negative dimensions count from the end; `nInputDims` as in JoinTable. The slices are views, recorded as one op (one stack in backward).
 */
export class SplitTable extends Module<Tensor, Tensor[]> {
  constructor(
    readonly dimension: number,
    readonly nInputDims?: number,
  ) {
    super();
    if (!Number.isInteger(dimension)) {
      throw new WebrnnError('nn.SplitTable', `dimension must be an integer, got ${dimension}`);
    }
  }

  override updateOutput(input: Tensor): Tensor[] {
    // Any dtype: int32 index sequences are split into steps for a LookupTable.
    const x = expectTensor('input', input);
    const d = tableDim(this.dimension, this.nInputDims, x.rank, x.shape);
    return unbind(x, d);
  }
}
