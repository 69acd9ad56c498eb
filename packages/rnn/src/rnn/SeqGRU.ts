import { type Activity, expectTensor } from '../module/activity.js';
import { positiveInt } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  addmm,
  gruSequence,
  matmul,
  narrow,
  noGrad,
  randn,
  reshape,
  select,
  sigmoid,
  stack,
  sub,
  tanh,
  tidy,
  mul,
} from '../module/deps.js';
import { GRU } from './GRU.js';
import { SeqRecurrent, type SequenceRun } from './SeqRecurrent.js';

/**
 * Element-research's nn.SeqGRU: a GRU over a whole sequence in one forward, computed as Torch7's GRU (the reset
 * gate applies to h_prev before the recurrent product):
 *
 *   [r, u] = σ([x, h_prev] W_ru + b_ru);  hc = tanh(x W_xc + b_c + (r ⊙ h_prev) W_hc);  h = (1 - u) ⊙ hc + u ⊙ h_prev
 *
 * Input x [T, N, D] (or [N, T, D] with `batchfirst`) or a table [h0, x]; output [T, N, H]. Parameters as Torch:
 * `weight` (D + H) x 3H (blocks r, u, candidate), `bias` 3H with the update gate's bias 1, weights
 * normal(0, 1/sqrt(D + H)). The input projection of all steps is one matmul; the recurrence is one op (core's
 * gruSequence). Coupling hooks as SeqLSTM's: `userPrevOutput`, `gradPrevOutput`, `userGradPrevOutput`.
 *
 * `{ resetAfter: true }` computes PyTorch's (and cuDNN's) GRU instead, for weights trained there: the reset gate
 * applies after the recurrent product, which has a bias of its own, `biasHN` [H]:
 *
 *   hc = tanh(x W_xc + b_c + r ⊙ (h_prev W_hc + b_hn))
 *
 * (PyTorch's weight_ih/weight_hh are this weight's blocks transposed; b_ir + b_hr and b_iz + b_hz go in `bias`.)
 * That form steps through time with separate ops on the tape, without the fused kernels.
 */
export class SeqGRU extends SeqRecurrent {
  readonly outputSize: number;
  /** PyTorch's form: the reset gate after the recurrent product (see the class comment). */
  readonly resetAfter: boolean;

  constructor(inputSize: number, outputSize: number, options: { readonly resetAfter?: boolean } = {}) {
    positiveInt('nn.SeqGRU', 'outputSize', outputSize);
    super(inputSize, [outputSize]);
    this.outputSize = outputSize;
    this.resetAfter = options.resetAfter ?? false;
    this.registerParameter('weight', randn([inputSize + outputSize, 3 * outputSize]));
    this.registerParameter('bias', randn([3 * outputSize]));
    if (this.resetAfter) this.registerParameter('biasHN', randn([outputSize]));
    this.reset();
  }

  /** The candidate's recurrent bias b_hn of the resetAfter form (null otherwise). */
  get biasHN(): Tensor | null {
    return this.params.get('biasHN') ?? null;
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor {
    return this.param('bias');
  }
  get gradWeight(): Tensor {
    return this.weight.grad!;
  }
  get gradBias(): Tensor {
    return this.bias.grad!;
  }

  /** As Torch: weights normal(0, std) with std = 1/sqrt(D + H) by default; biases 0 but the update gate's 1. */
  override reset(std?: number): this {
    const s = std ?? 1 / Math.sqrt(this.inputSize + this.outputSize);
    const H = this.outputSize;
    noGrad(() =>
      tidy(() => {
        const r = randn(this.weight.shape, { dtype: this.weight.dtype, device: this.weight.device });
        this.weight.copy_(r.mul(s));
        r.dispose();
        this.bias.zero_();
        narrow(this.bias, 0, H, H).fill_(1);
      }),
    );
    return this;
  }

  protected override unpack(input: Activity): { x: Tensor; given: (Tensor | undefined)[] } {
    if (!Array.isArray(input)) return { x: input as Tensor, given: [] };
    const parts = (input as readonly Activity[]).map((a, i) => expectTensor(`input[${i}]`, a));
    if (parts.length === 2) return { x: parts[1]!, given: [parts[0]!] };
    throw new WebrnnError('input', `expected x or [h0, x], got a table of ${parts.length} entries`);
  }

  protected override run(x: Tensor, starts: readonly Tensor[], keepMask: Tensor | null): SequenceRun {
    const [T, N, D] = x.shape as [number, number, number];
    const H = this.outputSize;
    const wx = narrow(this.weight, 0, 0, D);
    const wh = narrow(this.weight, 0, D, H);
    // Its intermediates go at once (the recurrence does not keep gx): only what backward reads stays alive.
    const gx = tidy(() => reshape(addmm(this.bias, reshape(x, [T * N, D]), wx), [T, N, 3 * H]));
    const out = this.resetAfter
      ? this.resetAfterSequence(gx, wh, starts[0]!, keepMask)
      : gruSequence(gx, wh, starts[0]!, { keep: keepMask });
    gx.dispose();
    return { output: out, finals: [select(out, 0, T - 1)] };
  }

  /** PyTorch's GRU, step by step with ops (the tape differentiates it). */
  private resetAfterSequence(gx: Tensor, wh: Tensor, h0: Tensor, keepMask: Tensor | null): Tensor {
    const H = this.outputSize;
    const whRU = narrow(wh, 1, 0, 2 * H);
    const whC = narrow(wh, 1, 2 * H, H);
    let h = h0;
    const outs: Tensor[] = [];
    for (let t = 0; t < gx.shape[0]!; t++) {
      const g = select(gx, 0, t);
      const ru = sigmoid(add(narrow(g, 1, 0, 2 * H), matmul(h, whRU)));
      const [r, u] = [narrow(ru, 1, 0, H), narrow(ru, 1, H, H)];
      const hc = tanh(add(narrow(g, 1, 2 * H, H), mul(r, add(matmul(h, whC), this.biasHN!))));
      h = add(hc, mul(u, sub(h, hc)));
      if (keepMask) h = mul(h, select(keepMask, 0, t));
      outs.push(h);
    }
    return stack(outs);
  }

  /**
   * The same GRU as an nn.GRU (Torch's toGRU): weights, biases and their gradients copied into GRU's Linear
   * layout (i2g, o2g for the gates r, u; i2h, o2h for the candidate; weights out x in).
   */
  toGRU(): GRU {
    if (this.resetAfter) {
      throw new WebrnnError('nn.SeqGRU.toGRU', 'the resetAfter (PyTorch) form has no nn.GRU equivalent');
    }
    const D = this.inputSize;
    const H = this.outputSize;
    const gru = new GRU(D, H);
    gru.to(this.weight.device).type(this.weight.dtype);
    noGrad(() =>
      tidy(() => {
        for (const grad of [false, true]) {
          const src = (t: Tensor) => (grad ? t.grad! : t);
          const w = src(this.weight);
          const b = src(this.bias);
          const wx = narrow(w, 0, 0, D);
          const wh = narrow(w, 0, D, H);
          src(gru.i2g.weight).copy_(narrow(wx, 1, 0, 2 * H).t());
          src(gru.i2g.bias!).copy_(narrow(b, 0, 0, 2 * H));
          src(gru.o2g.weight).copy_(narrow(wh, 1, 0, 2 * H).t());
          src(gru.i2h.weight).copy_(narrow(wx, 1, 2 * H, H).t());
          src(gru.i2h.bias!).copy_(narrow(b, 0, 2 * H, H));
          src(gru.o2h.weight).copy_(narrow(wh, 1, 2 * H, H).t());
        }
      }),
    );
    return gru;
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize}${this.resetAfter ? ', resetAfter' : ''})`;
  }
}
