import { type Activity, expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, logSoftmax, squeeze, tidy } from '../module/deps.js';
import { ClassNLLCriterion } from './ClassNLLCriterion.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * LogSoftMax followed by ClassNLLCriterion, on raw scores (torch's nn.CrossEntropyCriterion): input [N, C] with
 * int32 targets [N], or [C] with one class. As in Torch the input and target are squeezed first (so [1, C]
 * works like [C]), and `weights` and `sizeAverage` are those of the inner ClassNLLCriterion.
 */
export class CrossEntropyCriterion extends Criterion {
  readonly nll: ClassNLLCriterion;

  constructor(weights: Tensor | null = null, sizeAverage = true) {
    super();
    this.nll = new ClassNLLCriterion(weights, sizeAverage);
    this.nll.reportedAs = this.describe();
  }

  get sizeAverage(): boolean {
    return this.nll.sizeAverage;
  }
  set sizeAverage(v: boolean) {
    this.nll.sizeAverage = v;
  }
  get weights(): Tensor | null {
    return this.nll.weights;
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x = expectTensor('input', input);
    if (x.dtype === 'int32')
      throw new WebrnnError('input', 'has dtype int32, expected float32 or float64 scores');
    return tidy(() => {
      const xs = squeeze(x);
      const t = typeof target === 'number' ? target : squeeze(expectTensor('target', target));
      return this.nll.updateOutput(logSoftmax(xs, -1), t);
    });
  }

  override dispose(): void {
    this.nll.dispose();
    super.dispose();
  }
}
