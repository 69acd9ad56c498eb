import { type Activity, expectTensor } from '../module/activity.js';
import {
  type Tensor,
  WebrnnError,
  affine,
  cast,
  div,
  eq,
  fmtShape,
  gather,
  indexSelect,
  mean,
  mul,
  neg,
  reshape,
  sum,
  tensor,
  tidy,
  where,
} from '../module/deps.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * Negative log-likelihood of 0-based class indices under log-probabilities (put a LogSoftMax before it).
 * Input [N, C] with target [N] (int32), or [C] with a single class (a number or a 0-d/1-element tensor).
 * Optional per-class `weights` [C]. With `sizeAverage` (default) the loss is divided by the summed weights of
 * the targets (N without weights), and not divided when that sum is 0; targets equal to `ignoreIndex` count
 * for nothing, as in Torch.
 */
export class ClassNLLCriterion extends Criterion {
  /** The criterion a bad target's device-side report names (a CrossEntropyCriterion names itself). */
  reportedAs: string | null = null;

  constructor(
    public weights: Tensor | null = null,
    public sizeAverage = true,
    readonly ignoreIndex = -100,
  ) {
    super();
    if (weights && weights.rank !== 1) {
      throw new WebrnnError(
        'nn.ClassNLLCriterion',
        `weights should be a 1-D tensor, got shape ${fmtShape(weights.shape)}`,
      );
    }
  }

  /** type() and to() convert the class weights (a converted copy; the tensor given stays as it is). */
  protected override convertSettings(convert: (t: Tensor) => Tensor): void {
    if (this.weights) this.weights = this.adopt(this.weights, convert(this.weights));
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x0 = expectTensor('input', input);
    if (x0.dtype === 'int32')
      throw new WebrnnError('input', 'has dtype int32, expected float32 or float64 log-probabilities');
    return tidy(() => {
      const x = x0.rank === 1 ? reshape(x0, [1, x0.shape[0]!]) : x0;
      const t = toTarget(target, x);
      if (x.rank !== 2 || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
        throw new WebrnnError(
          'input',
          `expected input [N, C] with target [N] or input [C] with one target, got ${fmtShape(x0.shape)} and target ${fmtShape(t.shape)}`,
        );
      }
      const [n, nClasses] = x.shape as [number, number];
      if (this.weights && this.weights.size !== nClasses) {
        throw new WebrnnError(
          'weights',
          `has ${this.weights.size} entries, expected one for each of the ${nClasses} classes`,
        );
      }
      const ignored = this.anyIgnored(t);
      // Ignored targets read class 0 and get weight 0. Any other class out of range raises from the gather (the
      // CPU at the call, WebGPU at the next read).
      const safe = ignored ? where(eq(t, this.ignoreIndex), 0, t) : t;
      const report = {
        op: 'target',
        noun: 'class',
        range: `${nClasses} classes`,
        module: this.reportedAs ?? this.describe(),
      };
      const picked = reshape(gather(x, 1, reshape(safe, [n, 1]), report), [n]);
      let w: Tensor | null = this.weights ? indexSelect(like(this.weights, x), 0, safe, report) : null;
      if (ignored) {
        const kept = affine(cast(eq(t, this.ignoreIndex), x.dtype), -1, 1);
        w = w ? mul(w, kept) : kept;
      }
      // An empty batch sums to 0 and is not divided (its total weight is 0), as on devices that cannot read
      // the targets (they take the weighted path below): mean() would give 0/0 = NaN here only.
      if (!w) return neg(this.sizeAverage && n > 0 ? mean(picked) : sum(picked));
      const total = neg(sum(mul(picked, w)));
      if (!this.sizeAverage) return total;
      const totalWeight = sum(w);
      return div(total, where(eq(totalWeight, 0), 1, totalWeight));
    });
  }

  /** Whether any target is ignored (assumed possible where the values cannot be read synchronously). */
  private anyIgnored(t: Tensor): boolean {
    return !t.backend.canReadSync || t.dataSync().includes(this.ignoreIndex);
  }
}

/** `w` in the dtype and on the device of `x` (criteria keep their weights as given; models may be converted). */
export function like(w: Tensor, x: Tensor): Tensor {
  if (w.device !== x.device) {
    throw new WebrnnError(
      'weights',
      `are on ${w.device} but the input is on ${x.device}; move them with .to()`,
    );
  }
  return w.dtype === x.dtype ? w : cast(w, x.dtype);
}

/** Targets as a 1-D int32 tensor; a number, or a 0-d tensor with a 1-D input, becomes a batch of one. */
function toTarget(target: Target, x: Tensor): Tensor {
  if (typeof target === 'number') return tensor([target], { dtype: 'int32', device: x.device });
  const t = expectTensor('target', target);
  if (t.dtype !== 'int32')
    throw new WebrnnError('target', `has dtype ${t.dtype}, expected int32 class indices`);
  return t.rank === 0 ? reshape(t, [1]) : t;
}
