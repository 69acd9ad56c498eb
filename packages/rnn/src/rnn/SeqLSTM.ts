import { type Activity, expectTensor } from '../module/activity.js';
import { positiveInt } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  addmm,
  lstmSequence,
  narrow,
  noGrad,
  randn,
  reshape,
  select,
  tidy,
} from '../module/deps.js';
import { FastLSTM } from './FastLSTM.js';
import { SeqRecurrent, type SequenceRun } from './SeqRecurrent.js';

/**
 * Element-research's nn.SeqLSTM: an LSTM over a whole sequence in one forward.
 *
 *   gates = [x, r_prev] W + b   (W is (D + R) x 4H, gates in the order i, f, o, g)
 *   i, f, o = σ;  g = tanh;  c = f ⊙ c_prev + i ⊙ g;  h = o ⊙ tanh(c);  r = h (or h Wo, the LSTMP)
 *
 * Input x [T, N, D] (or [N, T, D] with `batchfirst`), or a table [h0, x] or [c0, h0, x]; output [T, N, R], and
 * the matching gradInput. Parameters as Torch: `weight` (D + R) x 4H, `bias` 4H with the forget gate's bias 1,
 * weights normal(0, 1/sqrt(D + R)); with a projection (`new SeqLSTM(D, H, R)`, Sak et al.'s LSTMP) also
 * `weightO` H x R. The input projection of all steps is one matmul; the recurrence is one op (core's
 * lstmSequence: a matmul and a fused cell per step, no host round trip).
 *
 * `cell` holds every step's cell [T, N, H] after forward. Encoder-decoder coupling as in Torch's
 * examples/encoder-decoder-coupling-seqLSTM: `dec.userPrevOutput = select(enc.output, 0, T - 1)`,
 * `dec.userPrevCell = select(enc.cell, 0, T - 1)`, and after the decoder's backward
 * `enc.gradPrevOutput = dec.userGradPrevOutput`, `enc.userNextGradCell = dec.userGradPrevCell`.
 */
export class SeqLSTM extends SeqRecurrent {
  readonly hiddenSize: number;
  readonly outputSize: number;
  /** Every step's cell after forward, [T, N, H] (on the tape). */
  private cells: Tensor | null = null;

  constructor(inputSize: number, hiddenSize: number, outputSize?: number) {
    positiveInt(`nn.${new.target.name}`, 'hiddenSize', hiddenSize);
    if (outputSize !== undefined) positiveInt(`nn.${new.target.name}`, 'outputSize', outputSize);
    const R = outputSize ?? hiddenSize;
    super(inputSize, [R, hiddenSize]);
    this.hiddenSize = hiddenSize;
    this.outputSize = R;
    const H = hiddenSize;
    this.registerParameter('weight', randn([inputSize + R, 4 * H]));
    this.registerParameter('bias', randn([4 * H]));
    if (R !== H || this.alwaysProjects()) this.registerParameter('weightO', randn([H, R]));
    this.reset();
  }

  /**
   * Whether the layer has the projection `weightO` even when outputSize == hiddenSize. SeqLSTM projects only when
   * the sizes differ (torch/rnn's later SeqLSTM projects whenever outputSize is given); nn.SeqLSTMP always does,
   * as Element-research's SeqLSTMP. Called from the constructor, so it must not read the subclass's fields.
   */
  protected alwaysProjects(): boolean {
    return false;
  }

  /** Torch's field names. */
  get inputsize(): number {
    return this.inputSize;
  }
  get hiddensize(): number {
    return this.hiddenSize;
  }
  get outputsize(): number {
    return this.outputSize;
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor {
    return this.param('bias');
  }
  /** The LSTMP projection H x R (null without one). */
  get weightO(): Tensor | null {
    return this.params.get('weightO') ?? null;
  }
  get gradWeight(): Tensor {
    return this.weight.grad!;
  }
  get gradBias(): Tensor {
    return this.bias.grad!;
  }
  get gradWeightO(): Tensor | null {
    return this.weightO?.grad ?? null;
  }

  /** Every step's cell [T, N, H] after forward. */
  get cell(): Tensor | null {
    return this.cells;
  }

  /** Initial cell c0 [N, H] for the next forward instead of zeros (used once). */
  get userPrevCell(): Tensor | null {
    return this.userStates[1]!;
  }
  set userPrevCell(c: Tensor | null) {
    this.userStates[1] = c;
  }
  /** After backward: the gradient with respect to c0. */
  get userGradPrevCell(): Tensor | null {
    return this.startGrad(1);
  }
  /** A gradient with respect to the last cell, added by the next backward. */
  get userNextGradCell(): Tensor | null {
    return this.userFinalGrads[1]!;
  }
  set userNextGradCell(g: Tensor | null) {
    this.userFinalGrads[1] = g;
  }

  /** As Torch: weights normal(0, std) with std = 1/sqrt(D + R) by default; biases 0 but the forget gate's 1. */
  override reset(std?: number): this {
    const s = std ?? 1 / Math.sqrt(this.inputSize + this.outputSize);
    const H = this.hiddenSize;
    noGrad(() =>
      tidy(() => {
        for (const p of this.params.values()) {
          if (p === this.bias) continue;
          const r = randn(p.shape, { dtype: p.dtype, device: p.device });
          p.copy_(r.mul(s));
          r.dispose();
        }
        this.bias.zero_();
        narrow(this.bias, 0, H, H).fill_(1);
      }),
    );
    return this;
  }

  protected override unpack(input: Activity): { x: Tensor; given: (Tensor | undefined)[] } {
    if (!Array.isArray(input)) return { x: input as Tensor, given: [] };
    const t = input as readonly Activity[];
    const parts = t.map((a, i) => expectTensor(`input[${i}]`, a));
    if (parts.length === 2) return { x: parts[1]!, given: [parts[0]!] };
    if (parts.length === 3) return { x: parts[2]!, given: [parts[1]!, parts[0]!] };
    throw new WebrnnError(
      'input',
      `expected x, [h0, x] or [c0, h0, x], got a table of ${parts.length} entries`,
    );
  }

  protected override run(x: Tensor, starts: readonly Tensor[], keepMask: Tensor | null): SequenceRun {
    const [T, N, D] = x.shape as [number, number, number];
    const H = this.hiddenSize;
    const R = this.outputSize;
    const wx = narrow(this.weight, 0, 0, D);
    const wh = narrow(this.weight, 0, D, R);
    // The input projection of every step at once, the bias added by the product (addmm).
    // Its intermediates go at once (the recurrence does not keep gx): only what backward reads stays alive.
    const gx = tidy(() => reshape(addmm(this.bias, reshape(x, [T * N, D]), wx), [T, N, 4 * H]));
    const [out, cells] = lstmSequence(gx, wh, starts[0]!, starts[1]!, {
      order: 'ifog',
      keep: keepMask,
      projection: this.weightO,
    });
    gx.dispose();
    this.cells = cells;
    return { output: out, finals: [select(out, 0, T - 1), select(cells, 0, T - 1)] };
  }

  /**
   * The same LSTM as an nn.FastLSTM (Torch's toFastLSTM): weights, biases and their gradients copied into
   * FastLSTM's layout (gates i, z, f, o; Linear weights out x in). Not for the LSTMP.
   */
  toFastLSTM(): FastLSTM {
    if (this.weightO) {
      throw new WebrnnError(
        'nn.SeqLSTM.toFastLSTM',
        'an LSTM with a projection (LSTMP) has no FastLSTM equivalent',
      );
    }
    const D = this.inputSize;
    const H = this.hiddenSize;
    const lstm = new FastLSTM(D, H);
    lstm.to(this.weight.device).type(this.weight.dtype);
    // FastLSTM block k holds SeqLSTM gate FROM[k] (SeqLSTM: i f o g; FastLSTM: i z f o, z = g).
    const FROM = [0, 3, 1, 2];
    noGrad(() =>
      tidy(() => {
        for (const grad of [false, true]) {
          const src = (t: Tensor) => (grad ? t.grad! : t);
          const wx = narrow(src(this.weight), 0, 0, D);
          const wh = narrow(src(this.weight), 0, D, H);
          FROM.forEach((g, k) => {
            narrow(src(lstm.i2g.weight), 0, k * H, H).copy_(narrow(wx, 1, g * H, H).t());
            narrow(src(lstm.o2g.weight), 0, k * H, H).copy_(narrow(wh, 1, g * H, H).t());
            narrow(src(lstm.i2g.bias!), 0, k * H, H).copy_(narrow(src(this.bias), 0, g * H, H));
          });
        }
      }),
    );
    return lstm;
  }

  override clearState(): this {
    this.cells = null;
    return super.clearState();
  }

  override describe(): string {
    const p = this.weightO ? ` -> ${this.outputSize}` : '';
    return `${this.typeName}(${this.inputSize} -> ${this.hiddenSize}${p})`;
  }
}
