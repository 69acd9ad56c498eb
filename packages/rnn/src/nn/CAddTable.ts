import { sameShapes, tensorTable } from './checks.js';
import { type Tensor, add, tidy } from './deps.js';
import { Module } from './Module.js';

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
