import { type Activity, expectTensor } from '../module/activity.js';
import { type Tensor, mse, reshape, tidy } from '../module/deps.js';
import { Criterion, type Target } from './Criterion.js';

const squeezed = (t: Tensor) => t.shape.filter((d) => d !== 1).join();

/**
 * Squared error, averaged over all elements with `sizeAverage` (default) or summed, as Torch's MSECriterion. Input
 * and target may differ by size-1 dims ([80, 1] and [80]), as Torch allows.
 */
export class MSECriterion extends Criterion {
  constructor(public sizeAverage = true) {
    super();
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x = expectTensor('input', input);
    const t = expectTensor('target', target as Activity);
    // Torch compares element by element whenever the counts agree; we follow it where the shapes differ only by
    // size-1 dims (input [80, 1], target [80]) and refuse the rest ([2, 3] against [3, 2] is more likely a bug).
    if (t.shape.join() !== x.shape.join() && squeezed(t) === squeezed(x)) {
      return tidy(() => mse(x, reshape(t, x.shape), this.sizeAverage ? 'mean' : 'sum'));
    }
    return mse(x, t, this.sizeAverage ? 'mean' : 'sum');
  }
}
