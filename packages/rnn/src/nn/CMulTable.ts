import { sameShapes, tensorTable } from '../module/checks.js';
import { type Tensor, mul, tidy } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** The elementwise product of a table of same-shaped tensors (torch's nn.CMulTable). */
export class CMulTable extends Module<readonly Tensor[], Tensor> {
  override updateOutput(input: readonly Tensor[]): Tensor {
    const xs = tensorTable(input);
    sameShapes(xs);
    return tidy(() => xs.slice(1).reduce((acc, x) => mul(acc, x), xs[0]!));
  }
}
