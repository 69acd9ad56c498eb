import { type Activity, expectTensor } from '../nn/activity.js';
import { type Tensor, mse } from '../nn/deps.js';
import { Criterion, type Target } from './Criterion.js';

/** Squared error, averaged over all elements with `sizeAverage` (default) or summed, as Torch's MSECriterion. */
export class MSECriterion extends Criterion {
  constructor(public sizeAverage = true) {
    super();
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x = expectTensor('input', input);
    const t = expectTensor('target', target as Activity);
    return mse(x, t, this.sizeAverage ? 'mean' : 'sum');
  }
}
