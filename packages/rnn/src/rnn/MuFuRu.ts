import type { Activity } from '../module/activity.js';
import {
  type Tensor,
  WebrnnError,
  add,
  cat,
  mul,
  reshape,
  sigmoid,
  softmax,
  stack,
  sum,
} from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import { GatedRecurrent, maskedLinear } from './cells/GatedRecurrent.js';
import { ALL_MUFURU_OPS, MUFURU_OPS, type MuFuRuOp } from './cells/mufuruOps.js';

/**
 * Element-research's nn.MuFuRu(inputSize, outputSize, ops, rho): the multi-function recurrent unit of Weissenborn &
 * Rocktäschel (arXiv:1606.03002), as ER's MuFuRu.lua composes it:
 *
 *   r = σ(resetInput(x) + resetHidden(h_prev))              (two Linears with biases)
 *   v = σ(feature([x, r ⊙ h_prev]))                         (Linear(inputSize + outputSize, outputSize))
 *   p = softmax over the K ops of opWeights([x, h_prev])    (Linear(inputSize + outputSize, K * outputSize),
 *                                                            viewed [N, K, H]: one distribution per unit)
 *   h = Σ_k p_k ⊙ op_k(h_prev, v)
 *
 * with the ops of `ops` (default all eight: keep, replace, mul, diff, forget, sqrt_diff, max, min; see
 * cells/mufuruOps.ts); keep and replace alone make a GRU-like unit. The state and the output are h. Parameters in
 * Torch's order: resetInput, resetHidden, feature, opWeights (weight, bias each), Torch's Linear initialisation.
 * One `forward` is one time step (see AbstractRecurrent); inputs are [N, inputSize] or one sample [inputSize].
 */
export class MuFuRu extends GatedRecurrent {
  readonly ops: readonly MuFuRuOp[];
  readonly resetInput: Linear;
  readonly resetHidden: Linear;
  readonly feature: Linear;
  readonly opWeights: Linear;

  constructor(inputSize: number, outputSize: number, ops?: readonly MuFuRuOp[] | null, rho?: number) {
    const list = checkOps(ops ?? ALL_MUFURU_OPS);
    super(inputSize, outputSize, rho);
    this.ops = list;
    const D = inputSize;
    const H = outputSize;
    this.resetInput = new Linear(D, H);
    this.resetHidden = new Linear(H, H);
    this.feature = new Linear(D + H, H);
    this.opWeights = new Linear(D + H, list.length * H);
    this.add(this.resetInput).add(this.resetHidden).add(this.feature).add(this.opWeights);
  }

  /** Torch's num_ops. */
  get numOps(): number {
    return this.ops.length;
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    return this.stepH(input, prevState, (xb, hb) => {
      const [N, H, K] = [xb.shape[0]!, this.outputSize, this.ops.length];
      const r = sigmoid(
        add(maskedLinear(xb, this.resetInput, null), maskedLinear(hb, this.resetHidden, null)),
      );
      const v = sigmoid(maskedLinear(cat([xb, mul(r, hb)], 1), this.feature, null));
      const p = softmax(reshape(maskedLinear(cat([xb, hb], 1), this.opWeights, null), [N, K, H]), 1);
      const candidates = stack(
        this.ops.map((op) => MUFURU_OPS[op](hb, v)),
        1,
      );
      return sum(mul(p, candidates), 1);
    });
  }

  /** Element-research's MuFuRu refuses GRU:migrate. */
  migrate(_params: readonly Tensor[]): never {
    throw new WebrnnError('nn.MuFuRu.migrate', 'Migrate not supported for MuFuRu');
  }

  /** As Torch prints it: nn.MuFuRu(in -> out) { keep replace ... }. */
  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize}) { ${this.ops.join(' ')} }`;
  }
}

function checkOps(ops: unknown): MuFuRuOp[] {
  if (!Array.isArray(ops)) {
    throw new WebrnnError(
      'nn.MuFuRu',
      `ops must be a list of operation names (the arguments are inputSize, outputSize, ops, rho), got ${String(ops)}`,
    );
  }
  if (ops.length === 0) throw new WebrnnError('nn.MuFuRu', 'ops must name at least one operation, got []');
  for (const op of ops) {
    if (typeof op !== 'string' || !Object.hasOwn(MUFURU_OPS, op)) {
      throw new WebrnnError(
        'nn.MuFuRu',
        `unknown operation ${JSON.stringify(op)}, expected one of ${ALL_MUFURU_OPS.join(', ')}`,
      );
    }
  }
  return [...ops] as MuFuRuOp[];
}
