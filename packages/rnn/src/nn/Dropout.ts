import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  customOp,
  fmtShape,
  keep,
  lt,
  mul,
  noGrad,
  rand,
  tidy,
} from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Zeroes each input element with probability `p` during training: torch's nn.Dropout with Element-research rnn's
 * constructor `(p, v1, inplace, lazy, mono)`. By default (Torch's "version 2") the kept elements are scaled by
 * 1/(1-p) at training time, so evaluation is the identity; with `v1` the output is instead scaled by (1-p) at
 * evaluation. The mask comes from the core's default generator, so `manualSeed` makes it reproducible; backward
 * multiplies by the same mask.
 *
 * - `lazy` (rnn's Bayesian GRU/LSTM dropout): the mask is drawn once and reused by every forward until a backward
 *   has gone through this module (Torch: its updateGradInput), so all the steps of a sequence share it; then
 *   the next forward draws a new one. The backward is noticed on the tape, so it counts whether it came from
 *   Torch-style `backward` on this module or a container, or from `loss.backward()`. `forget()` and
 *   `clearState()` also let the next forward draw anew.
 * - `mono`: one mask for the whole batch (the first dimension of the mask is 1, broadcast over the batch).
 * - `stochasticInference` (torch/nn's 4th argument, a field here): keep dropping in evaluate() mode
 *   (Monte-Carlo dropout).
 * - `inplace`: as Torch's, the input tensor is overwritten with the output (the output shares its storage). The
 *   tape sees the write: an op that saved the input for its backward (Tanh saves its output) then refuses that
 *   backward, as PyTorch does, where Torch would silently use the dropped values. The gradOutput is not
 *   overwritten (Torch's is): the gradInput is a new tensor.
 */
export class Dropout extends Module {
  public stochasticInference = false;
  /** The lazy mask in use (owned here), and whether the next forward must draw a new one (Torch's flag). */
  private noise: Tensor | null = null;
  private flag = true;

  constructor(
    public p = 0.5,
    readonly v1 = false,
    readonly inplace = false,
    readonly lazy = false,
    readonly mono = false,
  ) {
    super();
    checkP(p);
  }

  setp(p: number): this {
    checkP(p);
    this.p = p;
    // A lazy mask drawn (and scaled) for the old p must not outlive it.
    this.dropNoise();
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const x = floatTensor(input);
    const p = this.p;
    if (p === 0) return x;
    if (!(this.train || this.stochasticInference)) {
      if (!this.v1) return x;
      return this.inplace ? this.overwrite(x, 1 - p, false) : mul(x, 1 - p);
    }
    if (!this.lazy)
      return tidy(() => (this.inplace ? this.overwrite(x, this.draw(x), false) : mul(x, this.draw(x))));
    const noise = this.lazyNoise(x);
    if (this.inplace) return this.overwrite(x, noise, true);
    // mul(x, noise) with a backward that also raises the flag, so the next forward draws a new mask.
    const out = noGrad(() => mul(x, noise));
    return customOp(
      'nn.Dropout',
      [x],
      [out],
      ([g]) => {
        this.flag = true;
        return [mul(g!, noise)];
      },
      [noise],
    )[0];
  }

  /**
   * Torch's inplace: x *= factor in its storage, and the output is x's storage again, recorded as x * factor
   * (`lazy`: its backward also lets the next forward draw a new mask).
   */
  private overwrite(x: Tensor, factor: Tensor | number, lazy: boolean): Tensor {
    // copy_ of the out-of-place product: bit for bit the out-of-place output (core's mul_ rounds a number
    // operand otherwise than mul).
    noGrad(() => tidy(() => x.copy_(mul(x, factor))));
    const out = noGrad(() => x.detach());
    const saved = typeof factor === 'number' ? [] : [factor];
    return customOp(
      'nn.Dropout',
      [x],
      [out],
      ([g], held) => {
        if (lazy) this.flag = true;
        return [mul(g!, held[0] ?? factor)];
      },
      saved,
    )[0];
  }

  /** Bernoulli(1 - p) noise shaped like x (its first dimension 1 with mono), scaled by 1/(1-p) in version 2. */
  private draw(x: Tensor): Tensor {
    return tidy(() => {
      const shape = this.mono && x.rank > 0 ? [1, ...x.shape.slice(1)] : x.shape;
      const keepMask = lt(rand(shape, { dtype: x.dtype, device: x.device }), 1 - this.p);
      return this.v1 ? keepMask : mul(keepMask, 1 / (1 - this.p));
    });
  }

  private lazyNoise(x: Tensor): Tensor {
    const n = this.noise;
    if (this.flag || !n || n.dtype !== x.dtype || n.device !== x.device) {
      this.dropNoise();
      this.noise = keep(noGrad(() => this.draw(x)));
      this.flag = false;
      return this.noise;
    }
    const fits =
      n.rank === x.rank && n.shape.every((s, i) => s === x.shape[i] || (this.mono && i === 0 && s === 1));
    if (!fits) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, but the lazy mask in use was drawn for shape ${fmtShape(n.shape)}: ` +
          'the mask is kept until a backward (or forget()); keep the shape within a sequence',
      );
    }
    return n;
  }

  private dropNoise(): void {
    this.noise?.dispose();
    this.noise = null;
    this.flag = true;
  }

  override forget(): this {
    this.dropNoise();
    return super.forget();
  }

  override clearState(): this {
    this.dropNoise();
    return super.clearState();
  }

  override describe(): string {
    // torch/nn prints p with %f; Element-research's lazy Dropout prints '%s(%.1f, lazy)'.
    if (this.lazy) return `${this.typeName}(${this.p.toFixed(1)}, lazy)`;
    return `${this.typeName}(${this.p.toFixed(6)})`;
  }
}

function checkP(p: number): void {
  if (!(p >= 0 && p < 1))
    throw new WebrnnError('nn.Dropout', `illegal percentage, must be 0 <= p < 1, got ${p}`);
}
