import { tableDim, tensorTable } from '../module/checks.js';
import { type Tensor, WebrnnError, cat, fmtShape } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Concatenates a table of tensors along `dimension` (torch's nn.JoinTable, the inverse of SplitTable). The
 * dimension is 0-based; a negative one counts from the end. With `nInputDims`, inputs with one more dimension
 * are a batch and the join happens one dimension further right, so one module serves both.
 */
export class JoinTable extends Module<readonly Tensor[], Tensor> {
  constructor(
    readonly dimension: number,
    readonly nInputDims?: number,
  ) {
    super();
    if (!Number.isInteger(dimension)) {
      throw new WebrnnError('nn.JoinTable', `dimension must be an integer, got ${dimension}`);
    }
  }

  override updateOutput(input: readonly Tensor[]): Tensor {
    const xs = tensorTable(input);
    const first = xs[0]!;
    const d = tableDim(this.dimension, this.nInputDims, first.rank, first.shape);
    xs.forEach((x, i) => {
      if (
        x.rank !== first.rank ||
        x.shape.some((n, k) => k !== d && n !== first.shape[k]) ||
        x.dtype !== first.dtype
      ) {
        throw new WebrnnError(
          `input[${i}]`,
          `has shape ${fmtShape(x.shape)} ${x.dtype}, expected ${fmtShape(first.shape)} ${first.dtype} like input[0] except along dimension ${d}`,
        );
      }
    });
    return cat(xs, d);
  }
}
