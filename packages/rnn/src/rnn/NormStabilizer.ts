import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  fmtShape,
  mul,
  sqrt,
  square,
  sub,
  sum,
  tidy,
  withLoss,
} from '../module/deps.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';

/**
 * Norm-stabilisation (Krueger & Memisevic 2015, as Element-research's nn.NormStabilizer): placed between recurrent
 * layers, it passes h(t) through unchanged and adds to the objective beta / N * sum over the batch of
 * (||h(t)|| - ||h(t-1)||)^2 for every step after the first: the same gradient as Torch's (which divides by the
 * batch size N but not by the number of steps). The state is the previous step's h. Batch mode only ([N, H]).
 */
export class NormStabilizer extends AbstractRecurrent<Tensor, Tensor> {
  constructor(
    readonly beta = 1,
    rho = 9999,
  ) {
    super(rho);
    if (!Number.isFinite(beta) || beta < 0)
      throw new WebrnnError('nn.NormStabilizer', `beta must be >= 0, got ${beta}`);
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const h = floatTensor(input);
    if (h.rank !== 2)
      throw new WebrnnError('input', `has shape ${fmtShape(h.shape)}, expected a batch [N, H]`);
    if (prevState === null || !this.train || this.beta === 0) return { output: h, state: h };
    const prev = prevState as Tensor;
    const out = tidy(() => {
      const norm = (t: Tensor) => sqrt(sum(square(t), 1));
      const penalty = mul(sum(square(sub(norm(h), norm(prev)))), this.beta / h.shape[0]!);
      return withLoss(h, penalty);
    });
    return { output: out, state: h };
  }

  protected override initialState(): null {
    return null;
  }

  override describe(): string {
    return this.typeName;
  }
}
