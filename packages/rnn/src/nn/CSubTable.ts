import { type Activity, describeActivity } from '../module/activity.js';
import { sameShapes, tensorTable } from '../module/checks.js';
import { type Tensor, WebrnnError, sub } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** input[0] - input[1] for a table of two same-shaped tensors (torch's nn.CSubTable). */
export class CSubTable extends Module<readonly Tensor[], Tensor> {
  override updateOutput(input: readonly Tensor[]): Tensor {
    const xs = tensorTable(input, 2);
    if (xs.length !== 2) {
      throw new WebrnnError('input', `expected a table of 2 tensors, got ${describeActivity(input)}`);
    }
    sameShapes(xs);
    return sub(xs[0]!, xs[1]!);
  }
}
