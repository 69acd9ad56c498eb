import { type Activity, expectTable } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  argmax,
  cast,
  eq,
  fmtShape,
  keep,
  mul,
  neg,
  reshape,
  sub,
  sum,
  tensor,
  zeros,
} from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import type { Module } from '../module/Module.js';
import { Criterion, type Target } from '../criterion/Criterion.js';
import { MSECriterion } from '../criterion/MSECriterion.js';
import { reinforce } from './Reinforce.js';

/**
 * dpnn's nn.VRClassReward, the variance-reduced classification reward. Input {classPrediction [N, C],
 * baseline [N] or [N, 1]}, target [N] (int32, 0-based). The reward is `scale` where the prediction's argmax is the
 * target, else 0; the loss is -sum(reward) (divided by N with `sizeAverage`, the default). Backward hands
 * (reward - baseline) (/ N) to every Reinforce module of `module` and returns {zeros for the prediction, the
 * gradient of `criterion` (MSE by default) pulling the baseline towards the reward}. A single example
 * ([C] with a number or 1-element target, baseline [1]) is a batch of one.
 */
export class VRClassReward extends Criterion {
  sizeAverage = true;
  /** The last forward's reward, [N] (scale or 0). */
  reward: Tensor | null = null;
  /** What the last backward handed to the Reinforce modules. */
  vrReward: Tensor | null = null;

  constructor(
    readonly module: Module,
    readonly scale = 1,
    readonly criterion: Criterion = new MSECriterion(),
  ) {
    super();
    if (!module || typeof (module as Module).children !== 'function') {
      throw new WebrnnError('nn.VRClassReward', `expected the module to reinforce, got ${String(module)}`);
    }
    if (!Number.isFinite(scale))
      throw new WebrnnError('nn.VRClassReward', `scale must be finite, got ${scale}`);
  }

  private parts(input: Activity): [Tensor, Tensor] {
    const t = expectTable('input', input);
    if (t.length !== 2) {
      throw new WebrnnError('input', `expected a table {classPrediction, baseline}, got ${t.length} entries`);
    }
    let pred = floatTensor(t[0]!, 'input[0]');
    if (pred.rank === 1) pred = reshape(pred, [1, pred.shape[0]!]);
    if (pred.rank !== 2) {
      throw new WebrnnError(
        'input[0]',
        `has shape ${fmtShape(pred.shape)}, expected class scores [N, C] or [C]`,
      );
    }
    const baseline = floatTensor(t[1]!, 'input[1]');
    const n = pred.shape[0]!;
    if (baseline.size !== n || baseline.rank > 2 || (baseline.rank === 2 && baseline.shape[1] !== 1)) {
      throw new WebrnnError(
        'input[1]',
        `the baseline has shape ${fmtShape(baseline.shape)}, expected [${n}] or [${n}, 1]: one per example`,
      );
    }
    return [pred, baseline];
  }

  private targetOf(target: Target, n: number, device: Tensor['device']): Tensor {
    const t = typeof target === 'number' ? tensor([target], { dtype: 'int32', device }) : (target as Tensor);
    if (Array.isArray(target) || t.dtype !== 'int32' || t.size !== n || t.rank > 1) {
      throw new WebrnnError(
        'target',
        `expected ${n} int32 class indices [${n}], got ${Array.isArray(target) ? 'a table' : `${fmtShape(t.shape)} ${t.dtype}`}`,
      );
    }
    return reshape(t, [n]);
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const [pred] = this.parts(input);
    const n = pred.shape[0]!;
    const t = this.targetOf(target, n, pred.device);
    const hit = cast(eq(argmax(pred, 1), t), pred.dtype).detach();
    const reward = keep(mul(hit, this.scale));
    this.reward?.dispose();
    this.reward = reward;
    const total = neg(sum(reward));
    return this.sizeAverage ? mul(total, 1 / n) : total;
  }

  override backward<I extends Activity>(input: I, target: Target): I {
    try {
      if (!this.reward) {
        throw new WebrnnError('backward', 'called before forward: there is no reward to hand out');
      }
      const [pred, baseline] = this.parts(input);
      const n = pred.shape[0]!;
      if (this.reward.shape[0] !== n) {
        throw new WebrnnError(
          'backward',
          `the input has ${n} examples but the last forward had ${this.reward.shape[0]}`,
        );
      }
      const b = reshape(baseline.detach(), [n]);
      const vr = keep(mul(sub(this.reward, b), this.sizeAverage ? 1 / n : 1));
      this.vrReward?.dispose();
      this.vrReward = vr;
      reinforce(this.module, vr);
      // The baseline learns to predict the reward.
      const rewardLike = reshape(this.reward, baseline.shape);
      this.criterion.forward(baseline, rewardLike);
      const gBaseline = this.criterion.backward(baseline, rewardLike);
      const p0 = (input as readonly Activity[])[0] as Tensor;
      this.gradInput = [zeros(p0.shape, { dtype: p0.dtype, device: p0.device }), gBaseline];
      return this.gradInput as I;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  /** Frees the last reward and variance-reduced reward, and the baseline's criterion. */
  override dispose(): void {
    this.reward?.dispose();
    this.reward = null;
    this.vrReward?.dispose();
    this.vrReward = null;
    this.criterion.dispose();
    super.dispose();
  }

  override describe(): string {
    return `${this.typeName}(scale ${this.scale})`;
  }
}
