import { type Activity, expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, add, addmm, fmtShape, matmul, reshape, uniform } from '../module/deps.js';
import { Module } from '../module/Module.js';
import { fillUniform, uniformBound } from './init.js';

/** y = x W^T + b, with Torch's layout (weight [outputSize, inputSize]) and initialisation. */
// Generic so that a subclass with another input (NCEModule's {input, target}) can say so; Linear is Tensor -> Tensor.
export class Linear<In extends Activity = Tensor, Out extends Activity = Tensor> extends Module<In, Out> {
  constructor(
    readonly inputSize: number,
    readonly outputSize: number,
    withBias = true,
  ) {
    super();
    for (const [name, v] of [
      ['inputSize', inputSize],
      ['outputSize', outputSize],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new WebrnnError(this.typeName, `${name} must be a positive integer, got ${v}`);
    }
    this.registerParameter('weight', uniform([outputSize, inputSize], -1, 1));
    if (withBias) this.registerParameter('bias', uniform([outputSize], -1, 1));
    this.reset();
  }

  /** Whether the layer adds a bias (false after `noBias()`). */
  get withBias(): boolean {
    return this.params.has('bias');
  }

  /** Torch's Linear:noBias(): drop the bias (and its gradient) for good; returns the layer. */
  noBias(): this {
    const b = this.params.get('bias');
    if (b) {
      this.params.delete('bias');
      b.grad?.dispose();
      b.dispose();
    }
    return this;
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.params.get('bias') ?? null;
  }
  get gradWeight(): Tensor {
    return this.weight.grad!;
  }
  get gradBias(): Tensor | null {
    return this.bias?.grad ?? null;
  }

  /**
   * As Torch: uniform in [-1/sqrt(inputSize), 1/sqrt(inputSize)] by default; a given `stdv` is taken as a standard
   * deviation, so the bound is stdv * sqrt(3).
   */
  override reset(stdv?: number): this {
    fillUniform(uniformBound(stdv, 1 / Math.sqrt(this.inputSize)), this.params.values());
    return this;
  }

  override updateOutput(input: In): Out {
    return this.affine(expectTensor(this.describe(), input)) as Out;
  }

  /** x W^T + b, for x [..., inputSize]. */
  protected affine(x: Tensor): Tensor {
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.inputSize) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, expected [${this.inputSize}] or [N, ${this.inputSize}]`,
      );
    }
    // The bias is added by the product itself (no second pass, no temporary): leading dims fold into rows.
    if (this.bias && x.isContiguous) {
      const rows = x.rank === 2 ? x : reshape(x, [x.size / this.inputSize, this.inputSize]);
      const y = addmm(this.bias, rows, this.weight, { transB: true });
      if (rows === x) return y;
      rows.dispose();
      const out = reshape(y, [...x.shape.slice(0, -1), this.outputSize]);
      y.dispose();
      return out;
    }
    const y = matmul(x, this.weight, { transB: true });
    if (!this.bias) return y;
    const out = add(y, this.bias);
    y.dispose();
    return out;
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize})${this.withBias ? '' : ' without bias'}`;
  }
}
