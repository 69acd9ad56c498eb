import { type Activity, expectTensor, flattenActivity, mapActivity } from '../../module/activity.js';
import { floatTensor, positiveInt } from '../../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  fmtShape,
  keep,
  lt,
  matmul,
  mul,
  noGrad,
  permute,
  rand,
  reshape,
  tidy,
  unsqueeze,
  zeros,
} from '../../module/deps.js';
import type { Linear } from '../../nn/Linear.js';
import { AbstractRecurrent } from '../AbstractRecurrent.js';

/** Variational dropout options of the gated recurrent modules (Element-research's `p` and `mono`). */
export interface DropoutOptions {
  /** Dropout probability on the inputs and the previous outputs, one mask per sequence (0: off). */
  readonly p?: number;
  /** One mask for the whole batch instead of one per sample. */
  readonly mono?: boolean;
}

/** Dropout masks for one sequence: `x` is [nx, N or 1, inputSize], `h` is [nh, N or 1, outputSize]. */
export interface Masks {
  readonly x: Tensor;
  readonly h: Tensor;
}

/**
 * What FastLSTM, LSTM and GRU share: sizes, input checks (a batch [N, inputSize] or one sample [inputSize]),
 * Torch's printing and reset, and the variational dropout of Gal & Ghahramani as Element-research implements it
 * with lazy Dropout modules: in training mode, each affine map of the input and of the previous output gets its
 * own mask, drawn once per sequence (on the first step after forget(), or after a Sequencer starts a new
 * sequence) and kept for its steps; evaluation uses no dropout (masks are scaled by 1/(1-p) in training).
 */
export abstract class GatedRecurrent extends AbstractRecurrent<Tensor, Tensor> {
  readonly p: number;
  readonly mono: boolean;
  private masks: Masks | null = null;
  /** The initial state set through userPrevOutput / userPrevCell (handles this module owns). */
  private heldUser: Activity | null = null;

  constructor(
    readonly inputSize: number,
    readonly outputSize: number,
    rho: number | undefined,
    dropout: DropoutOptions = {},
  ) {
    super(rho ?? 9999);
    positiveInt(`nn.${new.target.name}`, 'inputSize', inputSize);
    positiveInt(`nn.${new.target.name}`, 'outputSize', outputSize);
    const p = dropout.p ?? 0;
    if (!(p >= 0 && p < 1)) {
      throw new WebrnnError(`nn.${new.target.name}`, `dropout p must satisfy 0 <= p < 1, got ${p}`);
    }
    this.p = p;
    this.mono = dropout.mono ?? false;
  }

  /** Torch's reset(stdv): every child Linear (and CMul) re-initialised, with `stdv` passed on when given. */
  override reset(stdv?: number): this {
    for (const c of this.children()) c.reset(stdv);
    return this;
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize})`;
  }

  override forget(): this {
    this.disposeMasks();
    return super.forget();
  }

  override clearState(): this {
    this.disposeMasks();
    return super.clearState();
  }

  /** Set the initial state override (the base's userState), holding handles on it. */
  protected setUserState(state: Activity | null): void {
    const held = state ? holdState(state) : null;
    if (this.heldUser) {
      if (this.userState === this.heldUser) for (const t of flattenActivity(this.heldUser)) t.dispose();
    }
    this.userState = held;
    this.heldUser = held;
  }

  // ---- the state as Element-research names it (a single output state h; LSTMBase has its parts h and c) ----

  /** Initial output h(0) instead of zeros (for the first step after forget()). */
  get userPrevOutput(): Tensor | null {
    return this.userState as Tensor | null;
  }
  set userPrevOutput(h: Tensor | null) {
    this.setUserState(h);
  }

  /** Gradient with respect to h(0), once backward has reached the first step. */
  get gradPrevOutput(): Tensor | null {
    return this.gradPrevState as Tensor | null;
  }
  /** Element-research's name for gradPrevOutput. */
  get userGradPrevOutput(): Tensor | null {
    return this.gradPrevOutput;
  }

  // ---- helpers for the subclasses' steps -----------------------------------------------------------------

  /** The step's input as a float tensor [N, inputSize] or [inputSize], of the parameters' dtype. */
  protected checkInput(input: Activity): Tensor {
    const x = floatTensor(input);
    if ((x.rank !== 1 && x.rank !== 2) || x.shape[x.rank - 1] !== this.inputSize) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, expected [N, ${this.inputSize}] or [${this.inputSize}]`,
      );
    }
    const dtype = this.parameters()[0][0]?.dtype;
    if (dtype && x.dtype !== dtype) {
      throw new WebrnnError(
        'input',
        `has dtype ${x.dtype}, but the parameters are ${dtype} (convert the module with .float() / .double(), or the input)`,
      );
    }
    return x;
  }

  /** The shape of a state for this input: [N, outputSize], or [outputSize] for a single sample. */
  protected stateShape(x: Tensor): number[] {
    return x.rank === 1 ? [this.outputSize] : [x.shape[0]!, this.outputSize];
  }

  /** Zeros shaped like a state for this input. */
  /** The state before the first step: zeros (LSTMBase, with two states, has its own). */
  protected override initialState(input: Activity): Activity {
    return this.zeroState(input);
  }

  /**
   * A step of a unit whose only state is its output h (GRU, MuFuRu): the input and h(t-1) checked, `h` computes
   * h(t) from them as batches [N, ...] inside one tidy, and the output keeps the input's batching.
   */
  protected stepH(
    input: Activity,
    prevState: Activity | null,
    h: (xb: Tensor, hb: Tensor) => Tensor,
  ): { output: Activity; state: Activity } {
    const x = this.checkInput(input);
    const hPrev = expectTensor('hidden state', prevState ?? []);
    this.checkState(x, hPrev, 'output h');
    return tidy(() => {
      const out = likeInput(x, h(asBatch(x), asBatch(hPrev)));
      return { output: out, state: out };
    });
  }

  /**
   * Whether a whole sequence [T, N, inputSize] fits a sequence op in the current mode: no per-step dropout masks
   * (training with p > 0), and an input the steps would take (anything else steps, and gets the step's errors).
   */
  protected fitsSequence(x: Tensor): boolean {
    const w = this.parameters()[0][0];
    return (
      (!this.train || this.p === 0) &&
      x.rank === 3 &&
      x.shape[2] === this.inputSize &&
      w !== undefined &&
      x.dtype === w.dtype &&
      x.device === w.device &&
      (x.dtype === 'float32' || x.dtype === 'float64')
    );
  }

  protected zeroState(input: Activity): Tensor {
    const x = this.checkInput(input);
    return zeros(this.stateShape(x), { dtype: x.dtype, device: x.device });
  }

  /** A previous state must match the input's batch (the batch size cannot change within a sequence). */
  protected checkState(x: Tensor, s: Tensor, what: string): void {
    const want = this.stateShape(x);
    if (s.shape.join() !== want.join()) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, but the previous ${what} has shape ${fmtShape(s.shape)} ` +
          `(expected ${fmtShape(want)}): the batch size cannot change within a sequence; call forget() to start a new one`,
      );
    }
  }

  /**
   * The dropout masks of this sequence, or null when dropout is off (p = 0 or evaluation mode). `nx` masks for
   * the input, `nh` for the previous output. Drawn from the core's default generator (manualSeed reproduces them).
   */
  protected dropoutMasks(x2: Tensor, nx: number, nh: number): Masks | null {
    if (!this.train || this.p === 0) return null;
    const n = this.mono ? 1 : x2.shape[0]!;
    const m = this.masks;
    // A new sequence starts after forget() (step 0) or when a Sequencer cut the history (no records).
    const fresh = this.step === 0 || this.recordedOutputs().length === 0;
    if (
      !m ||
      fresh ||
      m.x.shape[0] !== nx ||
      m.h.shape[0] !== nh ||
      m.x.shape[1] !== n ||
      m.x.dtype !== x2.dtype ||
      m.x.device !== x2.device
    ) {
      this.disposeMasks();
      const opts = { dtype: x2.dtype, device: x2.device };
      const draw = (shape: number[]) =>
        keep(noGrad(() => tidy(() => mul(lt(rand(shape, opts), 1 - this.p), 1 / (1 - this.p)))));
      this.masks = { x: draw([nx, n, this.inputSize]), h: draw([nh, n, this.outputSize]) };
    }
    return this.masks;
  }

  private disposeMasks(): void {
    if (this.masks) {
      this.masks.x.dispose();
      this.masks.h.dispose();
      this.masks = null;
    }
  }
}

/** A rank-1 sample as a batch of one. */
export function asBatch(t: Tensor): Tensor {
  return t.rank === 1 ? unsqueeze(t, 0) : t;
}

/** Back to the input's form: [H] for a single sample. */
export function likeInput(x: Tensor, t: Tensor): Tensor {
  return x.rank === 1 ? reshape(t, [t.shape[t.rank - 1]!]) : t;
}

/**
 * `lin` applied to x [N, in] as G stacked gates (lin's weight is [G*H, in]), each gate seeing x through its own
 * mask (masks [G, N or 1, in]), or all the same x when `masks` is null: [N, G*H].
 */
export function maskedLinear(x: Tensor, lin: Linear, masks: Tensor | null): Tensor {
  return tidy(() => {
    const w = lin.weight;
    let y: Tensor;
    if (!masks) {
      y = matmul(x, w, { transB: true });
    } else {
      const g = masks.shape[0]!;
      const h = w.shape[0]! / g;
      const xs = mul(unsqueeze(x, 0), masks); // [G, N, in]
      const ys = matmul(xs, reshape(w, [g, h, w.shape[1]!]), { transB: true }); // [G, N, H]
      y = reshape(permute(ys, [1, 0, 2]), [x.shape[0]!, g * h]);
    }
    return lin.bias ? add(y, lin.bias) : y;
  });
}

/** Handles on a state owned by the caller's module (see AbstractRecurrent's userState). */
export function holdState(a: Activity): Activity {
  return mapActivity(a, (t) => keep(t.handle()));
}
