import { type Activity, expectTensor } from '../nn/activity.js';
import {
  type Tensor,
  WebrnnError,
  div,
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
} from '../nn/deps.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * Negative log-likelihood of 0-based class indices under log-probabilities (put a LogSoftMax before it).
 * Input [N, C] with target [N] (int32), or [C] with a single class. Optional per-class `weights`; with
 * `sizeAverage` (default) the loss is divided by N (or by the summed weights of the targets), as in Torch.
 */
export class ClassNLLCriterion extends Criterion {
  constructor(
    readonly weights: Tensor | null = null,
    public sizeAverage = true,
  ) {
    super();
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x0 = expectTensor('input', input);
    const x = x0.rank === 1 ? reshape(x0, [1, x0.shape[0]!]) : x0;
    const t = toTarget(target, x);
    if (x.rank !== 2 || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
      throw new WebrnnError(
        'input',
        `expected input [N, C] with target [N] or input [C] with one target, got ${fmtShape(x.shape)} and target ${fmtShape(t.shape)}`,
      );
    }
    const nClasses = x.shape[1]!;
    const data = t.device === 'cpu' ? t.dataSync() : null;
    if (data) {
      for (let i = 0; i < data.length; i++) {
        if (data[i]! < 0 || data[i]! >= nClasses) {
          throw new WebrnnError(
            'target',
            `class ${data[i]} at position ${i} is out of range for ${nClasses} classes (0-based)`,
          );
        }
      }
    }
    return tidy(() => {
      const picked = reshape(gather(x, 1, reshape(t, [t.shape[0]!, 1])), [t.shape[0]!]);
      if (!this.weights) return neg(this.sizeAverage ? mean(picked) : sum(picked));
      const w = indexSelect(this.weights, 0, t);
      const total = neg(sum(mul(picked, w)));
      return this.sizeAverage ? div(total, sum(w)) : total;
    });
  }
}

/** Targets as a 1-D int32 tensor; a number or a scalar tensor with a 1-D input becomes a batch of one. */
function toTarget(target: Target, x: Tensor): Tensor {
  if (typeof target === 'number') return tensor([target], { dtype: 'int32', device: x.device });
  const t = expectTensor('target', target);
  if (t.dtype !== 'int32')
    throw new WebrnnError('target', `has dtype ${t.dtype}, expected int32 class indices`);
  return t.rank === 0 ? reshape(t, [1]) : t;
}
