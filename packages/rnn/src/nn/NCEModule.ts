import { type Activity, expectTable, expectTensor } from '../module/activity.js';
import { AliasMultinomial } from './aliasMultinomial.js';
import { floatTensor, positiveInt } from '../module/checks.js';
import {
  type DType,
  type DeviceName,
  type Tensor,
  WebrnnError,
  add,
  cat,
  div,
  exp,
  expand,
  fmtShape,
  indexSelect,
  keep,
  logSoftmax,
  matmul,
  mean,
  mul,
  noGrad,
  reshape,
  softmax,
  sum,
  tensor,
  tidy,
} from '../module/deps.js';
import { fillUniform } from './init.js';
import { Linear } from './Linear.js';
import { moveTensor } from '../module/parameterStorage.js';

/**
 * dpnn's nn.NCEModule: the output layer of noise-contrastive estimation (Mnih & Teh 2012), a Linear(inputSize,
 * outputSize) that scores only the targets and `k` noise words drawn from the `unigrams` distribution, instead of
 * the whole vocabulary. Its input is the table {input [N, inputSize], target [N] (int32, 0-based)}; its output is
 * dpnn's table {P_model(target) [N], P_model(noise) [N, k], P_noise(target) [N], P_noise(noise) [N, k]} where
 * P_model = exp(x W^T + b) / Z, for nn.NCECriterion.
 *
 * - `batchnoise` (default true, dpnn's default): one noise sample of k words for the whole batch; false draws
 *   k words per row (dpnn's `--rownoise`).
 * - `Z` <= 0 (default -1): the normalisation constant is estimated from the first forward as
 *   mean(exp(scores of the noise)) * outputSize, then kept (`await normalizationConstant()` reads it).
 * - In evaluate() mode with `normalized` set, the output is the full softmax over the vocabulary [N, outputSize]
 *   (its log with `logsoftmax`), as dpnn's evaluate-rnnlm script sets it to measure perplexity; otherwise
 *   evaluation samples noise as training does (dpnn's validation NCE loss).
 *
 * dpnn's `fastNoise()` (the alias sampler instead of torch.multinomial) is the only sampler here, always on.
 * Noise comes from the core's seeded default generator (manualSeed makes it reproducible; `lastNoise` shows the
 * last sample). The gradients are autodiff's of the same formulas: equal to dpnn's hand-written ones (the
 * target gets a zero gradient, as in Torch). Z is not a parameter (nor in dpnn): a program that saves the module
 * saves Z beside it and passes it to the constructor when loading.
 */
export class NCEModule extends Linear<Activity, Activity> {
  readonly k: number;
  readonly sampler: AliasMultinomial;
  Z: number;
  batchnoise = true;
  normalized = false;
  logsoftmax = false;
  /** The noise words of the last forward: [k] with batchnoise, [N * k] (row-major) without. */
  lastNoise: Int32Array | null = null;
  /**
   * Z estimated from the first batch (when not given) on a device that cannot be read synchronously (WebGPU),
   * kept there until `normalizationConstant()` reads it; on the CPU the estimate becomes `Z` at once.
   */
  private zEstimate: Tensor | null = null;

  constructor(
    inputSize: number,
    outputSize: number,
    k: number,
    unigrams: Tensor | ArrayLike<number>,
    Z = -1,
  ) {
    super(inputSize, outputSize);
    positiveInt('nn.NCEModule', 'k', k);
    if (typeof Z !== 'number' || Number.isNaN(Z)) {
      throw new WebrnnError('nn.NCEModule', `Z must be a number (<= 0 to estimate it), got ${Z}`);
    }
    const weights = unigramValues(unigrams);
    if (weights.length !== outputSize) {
      throw new WebrnnError(
        'nn.NCEModule',
        `unigrams has ${weights.length} entries, expected one per output (outputSize ${outputSize})`,
      );
    }
    this.k = k;
    this.Z = Z;
    this.sampler = new AliasMultinomial(weights, 'nn.NCEModule: unigrams');
  }

  /**
   * As dpnn: with `stdv`, weight and bias uniform in [-stdv, stdv]; else the weight uniform in
   * [-1/sqrt(inputSize), 1/sqrt(inputSize)] and every bias -log(outputSize), so that exp(score) starts near
   * 1/outputSize and Z = 1 is about right.
   */
  override reset(stdv?: number): this {
    // dpnn takes stdv as the bound itself here, not as a standard deviation.
    fillUniform(stdv ?? 1 / Math.sqrt(this.inputSize), this.params.values());
    if (stdv === undefined) noGrad(() => this.param('bias').fill_(-Math.log(this.outputSize)));
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const [x, target] = this.checkInput(input);
    this.followWeight();
    if (!this.train && this.normalized) {
      return tidy(() => {
        const scores = add(matmul(x, this.weight, { transB: true }), this.bias!);
        return this.logsoftmax ? logSoftmax(scores, 1) : softmax(scores, 1);
      });
    }
    const n = x.shape[0]!;
    const k = this.k;
    const noise = this.sampler.batchDraw(this.batchnoise ? k : n * k);
    this.lastNoise = noise;
    const report = {
      op: 'input[1]',
      noun: 'target',
      range: `outputSize ${this.outputSize}`,
      positionShape: target.shape,
      module: this.errorName(),
    };
    return tidy(() => {
      const idx = tensor(noise, { dtype: 'int32', device: x.device });
      const w = this.weight;
      const b = this.bias!;
      // P_noise from the host's float64 probabilities, uploaded in the weight's dtype: no tensor to keep (a
      // container's dispose() would not reach it) and exact under :double(). V numbers, once per forward.
      const noiseProbs = tensor(this.sampler.probs, { dtype: w.dtype, device: w.device });
      // Scores of the targets, row by row: x_i . w_target(i) + b_target(i).
      const rawT = exp(
        add(sum(mul(x, indexSelect(w, 0, target, report)), 1), indexSelect(b, 0, target, report)),
      );
      let rawS: Tensor;
      let pns: Tensor;
      if (this.batchnoise) {
        rawS = exp(add(matmul(x, indexSelect(w, 0, idx), { transB: true }), indexSelect(b, 0, idx)));
        pns = expand(reshape(indexSelect(noiseProbs, 0, idx), [1, k]), [n, k]);
      } else {
        const sw = reshape(indexSelect(w, 0, idx), [n, k, this.inputSize]);
        const sb = reshape(indexSelect(b, 0, idx), [n, k]);
        rawS = exp(add(sum(mul(reshape(x, [n, 1, this.inputSize]), sw), 2), sb));
        pns = reshape(indexSelect(noiseProbs, 0, idx), [n, k]);
      }
      const z = this.normaliser(rawT, rawS);
      return [div(rawT, z), div(rawS, z), indexSelect(noiseProbs, 0, target, report), pns];
    });
  }

  /** Z, or its estimate from this batch when none is given nor estimated yet (dpnn: from the noise scores only
   * with batchnoise, from targets and noise without). */
  private normaliser(rawT: Tensor, rawS: Tensor): number | Tensor {
    if (!(this.Z <= 0)) return this.Z; // as dpnn: only Z <= 0 asks for an estimate (a NaN estimate stays)
    if (this.zEstimate) return this.zEstimate;
    if (rawS.size === 0) return 1; // an empty batch has nothing to estimate from (and nothing to divide)
    const estimate = noGrad(() => {
      const scores = this.batchnoise ? rawS : cat([reshape(rawT, [rawT.size, 1]), rawS], 1);
      return mul(mean(scores), this.outputSize);
    });
    if (estimate.backend.canReadSync) {
      this.Z = estimate.itemSync();
      return this.Z;
    }
    this.zEstimate = keep(estimate);
    return this.zEstimate;
  }

  /**
   * The normalisation constant: the one given, else the estimate from the first forward (read from the device,
   * then kept as `Z`), or null when there is none yet.
   */
  async normalizationConstant(): Promise<number | null> {
    if (!(this.Z <= 0)) return this.Z;
    if (!this.zEstimate) return null;
    const z = await this.zEstimate.item();
    this.zEstimate.dispose();
    this.zEstimate = null;
    this.Z = z;
    return z;
  }

  private checkInput(input: Activity): [Tensor, Tensor] {
    const table = expectTable('input', input);
    if (table.length !== 2) {
      throw new WebrnnError(
        'input',
        `expected the table {input [N, ${this.inputSize}], target [N]}, got ${table.length} entries`,
      );
    }
    const x = floatTensor(table[0]!, 'input[0]');
    const target = expectTensor('input[1]', table[1]!);
    if (x.rank !== 2 || x.shape[1] !== this.inputSize) {
      throw new WebrnnError('input[0]', `has shape ${fmtShape(x.shape)}, expected [N, ${this.inputSize}]`);
    }
    if (target.dtype !== 'int32' || target.rank !== 1 || target.shape[0] !== x.shape[0]) {
      throw new WebrnnError(
        'input[1]',
        `is ${fmtShape(target.shape)} ${target.dtype}, expected int32 targets [${x.shape[0]}] (one per row of input[0])`,
      );
    }
    if (target.device !== x.device) {
      throw new WebrnnError('input[1]', `is on ${target.device} but input[0] is on ${x.device}`);
    }
    return [x, target];
  }

  /**
   * A container's to() and type() move the parameters of the whole tree without calling this module's own: an
   * estimate of Z still on the device follows the weight here, at the next forward.
   */
  private followWeight(): void {
    const w = this.weight;
    if (this.zEstimate) moveTensor(this.zEstimate, w.device, w.dtype);
  }

  override to(device: DeviceName): this {
    super.to(device);
    this.followWeight();
    return this;
  }

  override type(dtype: DType): this {
    super.type(dtype);
    this.followWeight();
    return this;
  }

  /**
   * Also frees an estimate of Z not read yet (a container's dispose() does not reach it: read it first with
   * `normalizationConstant()`, as a program does to save it).
   */
  override dispose(): void {
    super.dispose();
    this.zEstimate?.dispose();
    this.zEstimate = null;
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize}, k ${this.k})`;
  }
}

/** The unigram weights as host numbers (a tensor must be readable on the host: the sampler lives there). */
function unigramValues(u: Tensor | ArrayLike<number>): ArrayLike<number> {
  if (typeof (u as Tensor).dataSync !== 'function') return u as ArrayLike<number>;
  const t = u as Tensor;
  if (t.rank !== 1) {
    throw new WebrnnError('nn.NCEModule', `unigrams has shape ${fmtShape(t.shape)}, expected a 1-D tensor`);
  }
  if (!t.backend.canReadSync) {
    throw new WebrnnError(
      'nn.NCEModule',
      `unigrams is on ${t.device}: give them on the CPU (or as an array)`,
    );
  }
  return t.dataSync();
}
