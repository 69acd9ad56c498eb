import { type Activity, expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, bce, expand, fmtShape, reshape, tidy } from '../module/deps.js';
import { like } from './ClassNLLCriterion.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * Binary cross-entropy -[t log(x) + (1 - t) log(1 - x)] of probabilities x in [0, 1] (put a Sigmoid before it)
 * against targets in [0, 1] (torch's nn.BCECriterion); logs take x + 1e-12 as in Torch. Input and target need
 * the same number of elements. Optional `weights` (1-D) scale each element: one per element of a 1-D target,
 * or one per column of a 2-D target [N, C]. With `sizeAverage` (default) the sum is divided by the number of
 * elements.
 */
export class BCECriterion extends Criterion {
  constructor(
    public weights: Tensor | null = null,
    public sizeAverage = true,
  ) {
    super();
    if (weights && weights.rank !== 1) {
      throw new WebrnnError(
        'nn.BCECriterion',
        `weights should be a 1-D tensor, got shape ${fmtShape(weights.shape)}`,
      );
    }
  }

  /** type() and to() convert the class weights (a converted copy; the tensor given stays as it is). */
  protected override convertSettings(convert: (t: Tensor) => Tensor): void {
    if (this.weights) this.weights = this.adopt(this.weights, convert(this.weights));
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x = expectTensor('input', input);
    if (x.dtype === 'int32')
      throw new WebrnnError('input', 'has dtype int32, expected float32 or float64 probabilities');
    if (typeof target === 'number')
      throw new WebrnnError('target', 'expected a tensor of targets, got a number');
    const t = expectTensor('target', target);
    if (t.size !== x.size) {
      throw new WebrnnError(
        'target',
        `has shape ${fmtShape(t.shape)} (${t.size} elements), expected as many elements as the input ${fmtShape(x.shape)}`,
      );
    }
    if (t.dtype !== x.dtype)
      throw new WebrnnError('target', `has dtype ${t.dtype}, expected ${x.dtype} like the input`);
    checkProbabilities(x);
    return tidy(() => {
      let w: Tensor | undefined;
      if (this.weights) {
        const wt = like(this.weights, x);
        const per = t.rank === 1 ? t.size : t.rank === 2 ? t.shape[1]! : -1;
        if (wt.size !== per) {
          throw new WebrnnError(
            'weights',
            `have ${wt.size} entries, expected one per element of a 1-D target or per column of a 2-D target, got target ${fmtShape(t.shape)}`,
          );
        }
        w = reshape(t.rank === 1 ? wt : expand(reshape(wt, [1, per]), t.shape), x.shape);
      }
      return bce(x, reshape(t, x.shape), this.sizeAverage ? 'mean' : 'sum', w);
    });
  }
}

/** As Torch asserts: inputs are probabilities (checked where the values can be read synchronously). */
function checkProbabilities(x: Tensor): void {
  if (!x.backend.canReadSync) return;
  const data = x.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new WebrnnError(
        'input',
        `value ${v} at flat position ${i} should be between 0 and 1 (probabilities, e.g. after nn.Sigmoid)`,
      );
    }
  }
}
