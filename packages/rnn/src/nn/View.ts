import { expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, reshape } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Views its input with `sizes` (torch's nn.View); one entry may be -1 (inferred). Dimensions beyond the view's
 * are a batch that is kept: `setNumInputDims(n)` says how many trailing dimensions make one example, which
 * decides this unambiguously (e.g. View(-1) with setNumInputDims(2) flattens each example of a batch).
 */
export class View extends Module<Tensor, Tensor> {
  size: number[] = [];
  numElements = 1;
  numInputDims: number | undefined = undefined;

  constructor(...sizes: (number | readonly number[])[]) {
    super();
    this.resetSize(...sizes);
  }

  resetSize(...sizes: (number | readonly number[])[]): this {
    const size =
      sizes.length === 1 && Array.isArray(sizes[0]) ? [...(sizes[0] as number[])] : (sizes as number[]);
    if (size.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new WebrnnError('nn.View', `size should be non-negative or -1, got (${size.join(', ')})`);
    }
    if (size.filter((d) => d === -1).length > 1) {
      throw new WebrnnError('nn.View', `only one dimension can be -1, got (${size.join(', ')})`);
    }
    this.size = size;
    this.numElements = size.filter((d) => d >= 0).reduce((p, d) => p * d, 1);
    return this;
  }

  setNumInputDims(numInputDims: number | undefined): this {
    this.numInputDims = numInputDims;
    return this;
  }

  /** Torch's batch size rule; null when the input is one example. */
  private batchSize(x: Tensor): number | null {
    const ind = x.rank;
    const maxdim = this.numInputDims ?? ind;
    let ine = 1;
    for (let i = ind - 1; i >= Math.max(0, ind - maxdim); i--) ine *= x.shape[i]!;
    if (this.numElements === 0 || ine % this.numElements !== 0) {
      throw new WebrnnError(
        'input',
        `view (${x.shape.join('x')}) and desired view (${this.size.join('x')}) do not match`,
      );
    }
    // What is left over is either the batch, or the inferred (-1) dimension...
    let bsz = this.size.includes(-1) ? 1 : ine / this.numElements;
    // ...and dimensions before the example's are a batch for sure.
    for (let i = ind - maxdim - 1; i >= 0; i--) bsz *= x.shape[i]!;
    if (bsz === 1 && (this.numInputDims === undefined || ind <= this.numInputDims)) return null;
    return bsz;
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const bsz = this.batchSize(x);
    const shape = bsz === null ? this.size : [bsz, ...this.size];
    try {
      return reshape(x, shape);
    } catch (e) {
      throw new WebrnnError(
        'input',
        `view (${x.shape.join('x')}) and desired view (${this.size.join('x')}) do not match`,
      );
    }
  }

  override describe(): string {
    return `${this.typeName}(${this.size.join(', ')})`;
  }
}
