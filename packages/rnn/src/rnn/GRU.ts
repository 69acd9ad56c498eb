import { type Activity, expectTensor } from '../module/activity.js';
import {
  Tensor,
  WebrnnError,
  add,
  cat,
  fmtShape,
  gruSequence,
  mul,
  narrow,
  noGrad,
  reshape,
  select,
  tidy,
  transpose,
} from '../module/deps.js';
import type { SequenceResult } from './AbstractRecurrent.js';
import { Linear } from '../nn/Linear.js';
import { GatedRecurrent, maskedLinear } from './cells/GatedRecurrent.js';
import { gruStep } from './cells/gruCell.js';

/**
 * Element-research's nn.GRU (Cho et al. 2014, as Torch7 computes it):
 *
 *   [r, z] = σ(i2g(x) + o2g(h_prev))                 (i2g = Linear(inputSize, 2H), o2g = Linear(H, 2H) without bias)
 *   n = tanh(i2h(x) + o2h(r ⊙ h_prev))               (i2h = Linear(inputSize, H), o2h = Linear(H, H) without bias)
 *   h = (1 - z) ⊙ n + z ⊙ h_prev
 *
 * The reset gate applies to h_prev before the hidden-to-hidden product; PyTorch's GRU applies it after, with a
 * hidden bias inside (n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))): the two differ (see cells/gruCell.ts).
 * Parameters are listed in Torch's order: i2g (W, b), o2g (W), i2h (W, b), o2h (W). The state and the output are
 * h. `p` turns on variational dropout (Bayesian GRU, see GatedRecurrent): the two gates and the candidate each see
 * the input and the previous output (r ⊙ h_prev for the candidate) through their own masks. Torch splits i2g and
 * o2g into one Linear per gate when p > 0 (see its GRU:migrate); here they stay whole.
 */
export class GRU extends GatedRecurrent {
  readonly i2g: Linear;
  readonly o2g: Linear;
  readonly i2h: Linear;
  readonly o2h: Linear;

  constructor(inputSize: number, outputSize: number, rho?: number, p = 0, mono = false) {
    super(inputSize, outputSize, rho, { p, mono });
    this.i2g = new Linear(inputSize, 2 * outputSize);
    this.o2g = new Linear(outputSize, 2 * outputSize, false);
    this.i2h = new Linear(inputSize, outputSize);
    this.o2h = new Linear(outputSize, outputSize, false);
    this.add(this.i2g).add(this.o2g).add(this.i2h).add(this.o2h);
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    return this.stepH(input, prevState, (xb, hb) => {
      const masks = this.dropoutMasks(xb, 3, 3);
      const gates = add(
        maskedLinear(xb, this.i2g, masks ? narrow(masks.x, 0, 0, 2) : null),
        maskedLinear(hb, this.o2g, masks ? narrow(masks.h, 0, 0, 2) : null),
      );
      const xn = maskedLinear(masks ? mul(xb, select(masks.x, 0, 2)) : xb, this.i2h, null);
      return gruStep(gates, xn, hb, this.o2h.weight, masks ? select(masks.h, 0, 2) : null);
    });
  }

  /**
   * A whole sequence [T, N, inputSize] (from a Sequencer) as one gruSequence: i2g and i2h over all steps in one
   * matmul each, then the recurrence with o2g's and o2h's weights side by side ([H, 3H]: r, z, candidate, the
   * order gruSequence reads). Not with dropout in training (per-step masks).
   */
  protected override canForwardSequence(x: Tensor): boolean {
    return this.fitsSequence(x);
  }

  protected override sequenceForward(x: Tensor, prevState: Activity | null): SequenceResult {
    const [T, N] = x.shape as [number, number, number];
    const H = this.outputSize;
    const h0 = expectTensor('hidden state', prevState ?? []);
    noGrad(() => this.checkState(select(x, 0, 0), h0, 'output h'));
    return tidy(() => {
      const xs = reshape(x, [T * N, this.inputSize]);
      const gx = reshape(cat([maskedLinear(xs, this.i2g, null), maskedLinear(xs, this.i2h, null)], 1), [
        T,
        N,
        3 * H,
      ]);
      const wh = cat([transpose(this.o2g.weight, 0, 1), transpose(this.o2h.weight, 0, 1)], 1);
      const out = gruSequence(gx, wh, h0);
      const steps = Array.from({ length: T }, (_, t) => {
        const h = select(out, 0, t);
        return { output: h, state: h };
      });
      return { output: out, steps };
    });
  }

  /**
   * Element-research's GRU:migrate(params): load the parameters of a GRU into this Bayesian GRU (p > 0; Torch
   * refuses others). `params` is either the 6 tensors of a plain GRU in Torch's order (i2g W [2H, D], b [2H], o2g W
   * [2H, H], i2h W [H, D], b [H], o2h W [H, H]), which here is also this module's layout (Torch splits a BGRU's
   * i2g and o2g by gate, this module does not), or the 9 of Torch's BGRU (W_r, b_r, W_z, b_z, U_r, U_z, i2h W, b,
   * o2h W), whose gate blocks are joined back. The values are copied; shapes are checked first.
   */
  migrate(params: readonly Tensor[]): this {
    const name = 'nn.GRU.migrate';
    if (this.p === 0) throw new WebrnnError(name, 'only support for BGRUs (a GRU built with p > 0)');
    if (!Array.isArray(params) || (params.length !== 6 && params.length !== 9)) {
      throw new WebrnnError(
        name,
        `expected the 6 parameters of a GRU (or the 9 of a BGRU), got ${Array.isArray(params) ? params.length : String(params)}`,
      );
    }
    const [D, H] = [this.inputSize, this.outputSize];
    const want =
      params.length === 6
        ? [[2 * H, D], [2 * H], [2 * H, H], [H, D], [H], [H, H]]
        : [[H, D], [H], [H, D], [H], [H, H], [H, H], [H, D], [H], [H, H]];
    params.forEach((t, i) => {
      if (!(t instanceof Tensor) || t.shape.join() !== want[i]!.join()) {
        throw new WebrnnError(
          name,
          `source parameter ${i} has shape ${t instanceof Tensor ? fmtShape(t.shape) : String(t)}, expected ${fmtShape(want[i]!)}`,
        );
      }
    });
    const b = params;
    // A BGRU's gates r and z are joined back into i2g and o2g (rows 0..H-1 r, H..2H-1 z).
    const src = noGrad(() =>
      b.length === 6
        ? b
        : [cat([b[0]!, b[2]!], 0), cat([b[1]!, b[3]!], 0), cat([b[4]!, b[5]!], 0), b[6]!, b[7]!, b[8]!],
    );
    const dst = [
      this.i2g.weight,
      this.i2g.bias!,
      this.o2g.weight,
      this.i2h.weight,
      this.i2h.bias!,
      this.o2h.weight,
    ];
    noGrad(() => dst.forEach((p, i) => p.copy_(src[i]!)));
    if (params.length === 9) for (const t of src.slice(0, 3)) t.dispose();
    return this;
  }

  /** As Torch prints it: nn.GRU(in -> out, p). */
  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize}, ${this.p.toFixed(2)})`;
  }
}
