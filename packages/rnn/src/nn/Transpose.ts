import { expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, contiguous, fmtShape, tidy, transpose } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Swaps pairs of dimensions in turn (torch's nn.Transpose): `new nn.Transpose([0, 3], [0, 2])` swaps 0 and 3,
 * then 0 and 2 (0-based). With `setNumInputDims(n)` the pairs count within the last n dimensions, so leading
 * batch dimensions are skipped. The output is contiguous, as Torch's copy is.
 */
export class Transpose extends Module<Tensor, Tensor> {
  readonly permutations: (readonly [number, number])[];
  numInputDims: number | undefined = undefined;

  constructor(...permutations: (readonly [number, number])[]) {
    super();
    for (const p of permutations) {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new WebrnnError(
          'nn.Transpose',
          `expected pairs of 0-based dimensions, got ${JSON.stringify(p)}`,
        );
      }
    }
    this.permutations = permutations.map((p) => [p[0], p[1]] as const);
  }

  setNumInputDims(numInputDims: number | undefined): this {
    this.numInputDims = numInputDims;
    return this;
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const offset = this.numInputDims === undefined ? 0 : x.rank - this.numInputDims;
    for (const [a, b] of this.permutations) {
      if (offset < 0 || a + offset >= x.rank || b + offset >= x.rank) {
        throw new WebrnnError(
          'input',
          `has shape ${fmtShape(x.shape)}, too few dimensions to transpose ${a} and ${b}` +
            (this.numInputDims === undefined ? '' : ` within the last ${this.numInputDims}`),
        );
      }
    }
    return tidy(() => {
      let y = x;
      for (const [a, b] of this.permutations) y = transpose(y, a + offset, b + offset);
      return contiguous(y);
    });
  }
}
