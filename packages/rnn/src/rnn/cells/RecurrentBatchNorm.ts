import type { Activity } from '../../module/activity.js';
import { floatTensor, positiveInt } from '../../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  div,
  fmtShape,
  full,
  mean,
  mul,
  narrow,
  noGrad,
  ones,
  pow,
  sigmoid,
  sqrt,
  sub,
  tanh,
  tidy,
  uniform,
  zeros,
} from '../../module/deps.js';
import { Module } from '../../module/Module.js';
import { moveTensor } from '../../module/parameterStorage.js';

/**
 * torch/nn's BatchNormalization over [N, size], as Element-research's FastLSTM uses it for recurrent batch
 * normalisation (Cooijmans et al. 2016): in training, y = (x - mean) / sqrt(var + eps) with the batch's mean and
 * biased variance (the gradient goes through them), and the running statistics move by `momentum` towards the
 * batch's mean and unbiased variance; in evaluation the running statistics are used. With `affine`, y ⊙ weight +
 * bias (weight filled with 0.1 as ER's FastLSTM does, bias 0). One instance serves every time step, so the running
 * statistics are shared by all steps (dpnn's sharedClone shares them too).
 *
 * Internal to FastLSTM (not an `nn` export). The running statistics are buffers, not parameters: type()/to()/clone()
 * carry them, dispose() frees them (also from a container's dispose) and io saves and loads them with the model.
 */
export class RecurrentBatchNorm extends Module {
  runningMean: Tensor;
  runningVar: Tensor;

  constructor(
    readonly size: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
    readonly affine = true,
  ) {
    super();
    positiveInt('nn.FastLSTM', 'batch normalisation size', size);
    if (!(eps >= 0) || !(momentum >= 0 && momentum <= 1)) {
      throw new WebrnnError(
        'nn.FastLSTM',
        `batch normalisation needs eps >= 0 and 0 <= momentum <= 1, got eps ${eps}, momentum ${momentum}`,
      );
    }
    if (affine) {
      this.registerParameter('weight', full([size], 0.1));
      this.registerParameter('bias', zeros([size]));
    }
    this.runningMean = this.registerBuffer('runningMean', zeros([size]));
    this.runningVar = this.registerBuffer('runningVar', ones([size]));
  }

  get weight(): Tensor | null {
    return this.params.get('weight') ?? null;
  }
  get bias(): Tensor | null {
    return this.params.get('bias') ?? null;
  }

  /** x [N, size] normalised; `train` picks the batch statistics (and updates the running ones) or the running ones. */
  normalize(x: Tensor, train: boolean): Tensor {
    // to()/type() move the statistics with the module; a weight moved on its own still finds them beside it.
    const p = this.weight ?? x;
    for (const s of [this.runningMean, this.runningVar]) moveTensor(s, p.device, p.dtype);
    return tidy(() => {
      let y: Tensor;
      if (train) {
        const n = x.shape[0]!;
        if (n < 2) {
          throw new WebrnnError(
            'input',
            `has a batch of ${n}: batch normalisation in training needs N >= 2 (one sample has no variance; Torch would make the running variance NaN)`,
          );
        }
        const mu = mean(x, 0);
        const centred = sub(x, mu);
        const variance = mean(mul(centred, centred), 0);
        y = mul(centred, pow(add(variance, this.eps), -0.5));
        noGrad(() => {
          const m = this.momentum;
          this.runningMean.copy_(add(mul(this.runningMean, 1 - m), mul(mu, m)));
          this.runningVar.copy_(add(mul(this.runningVar, 1 - m), mul(variance, (m * n) / (n - 1))));
        });
      } else {
        y = div(sub(x, this.runningMean), sqrt(add(this.runningVar, this.eps)));
      }
      return this.affine ? add(mul(y, this.weight!), this.bias!) : y;
    });
  }

  override updateOutput(input: Activity): Activity {
    const x = floatTensor(input);
    if (x.rank !== 2 || x.shape[1] !== this.size) {
      throw new WebrnnError('input', `has shape ${fmtShape(x.shape)}, expected [N, ${this.size}]`);
    }
    return this.normalize(x, this.train);
  }

  /** torch/nn's reset: weight uniform in [0, 1), bias 0, running mean 0 and variance 1. */
  override reset(): this {
    noGrad(() =>
      tidy(() => {
        const w = this.weight;
        if (w) w.copy_(uniform(w.shape, 0, 1, { dtype: w.dtype, device: w.device }));
        this.bias?.zero_();
        this.runningMean.zero_();
        this.runningVar.fill_(1);
      }),
    );
    return this;
  }

  override describe(): string {
    return `${this.typeName}(${this.size})`;
  }
}

/** What a batch-normalised FastLSTM holds (see FastLSTM). */
interface BatchNormLstm {
  readonly outputSize: number;
  readonly train: boolean;
  readonly bnWx: RecurrentBatchNorm | null;
  readonly bnWh: RecurrentBatchNorm | null;
  readonly biasWh: { readonly bias: Tensor } | null;
  readonly bnC: RecurrentBatchNorm | null;
}

/**
 * One step of Element-research's FastLSTM with `bn`, from the input term wx = i2g(x) and the recurrent term
 * wh = o2g(h_prev) ([N, 4H], gates input, candidate, forget, output):
 *
 *   a = BN_wx(wx) + BN_wh(wh) + b;  c = σ(a_f) ⊙ c_prev + σ(a_i) ⊙ tanh(a_z);  h = σ(a_o) ⊙ tanh(BN_c(c))
 */
export function batchNormLstmStep(
  m: BatchNormLstm,
  wx: Tensor,
  wh: Tensor,
  cPrev: Tensor,
): { h: Tensor; c: Tensor } {
  return tidy(() => {
    const H = m.outputSize;
    const a = add(m.bnWx!.normalize(wx, m.train), add(m.bnWh!.normalize(wh, m.train), m.biasWh!.bias));
    const gate = (k: number) => narrow(a, 1, k * H, H);
    const c = add(mul(sigmoid(gate(2)), cPrev), mul(sigmoid(gate(0)), tanh(gate(1))));
    const h = mul(sigmoid(gate(3)), tanh(m.bnC!.normalize(c, m.train)));
    return { h, c };
  });
}
