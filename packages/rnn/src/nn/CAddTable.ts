import { sameShapes, tensorTable } from '../module/checks.js';
import { type Tensor, add, tidy } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** The elementwise sum of a table of same-shaped tensors (torch's nn.CAddTable). */
export class CAddTable extends Module<readonly Tensor[], Tensor> {
  /** Accepted for Torch's signature; the tape never writes in place. */
  constructor(readonly inplace = false) {
    super();
  }

  override updateOutput(input: readonly Tensor[]): Tensor {
    const xs = tensorTable(input);
    sameShapes(xs);
    return tidy(() => xs.slice(1).reduce((acc, x) => add(acc, x), xs[0]!));
  }
}
