import { floatTensor, positiveInt } from '../module/checks.js';
import { type Tensor, WebrnnError, add, fmtShape, reshape, tidy, zeros } from '../module/deps.js';
import { Module } from '../module/Module.js';
import { fillUniform, uniformBound } from './init.js';

/**
 * A learned bias (torch's nn.Add): y = x + b with b of size `inputSize`, added to an input of that size or to each
 * example of a batch; with `scalar` one learned number is added to every element. As in Torch, `inputSize` may
 * be a shape (Torch's LongStorage), e.g. `new nn.Add([2, 3])`: the bias then has that shape.
 */
export class Add extends Module<Tensor, Tensor> {
  /** The number of elements of the bias (its shape's product). */
  readonly inputSize: number;
  readonly shape: readonly number[];

  constructor(
    inputSize: number | readonly number[],
    readonly scalar = false,
  ) {
    super();
    this.shape = typeof inputSize === 'number' ? [inputSize] : [...inputSize];
    if (this.shape.length === 0) throw new WebrnnError('nn.Add', 'the bias shape is empty');
    this.shape.forEach((d) => positiveInt('nn.Add', 'inputSize', d));
    this.inputSize = this.shape.reduce((a, b) => a * b, 1);
    this.registerParameter('bias', zeros(scalar ? [1] : this.shape));
    this.reset();
  }

  get bias(): Tensor {
    return this.param('bias');
  }
  get gradBias(): Tensor {
    return this.bias.grad!;
  }

  /** Uniform in [-stdv, stdv], stdv = 1/sqrt(bias size) by default; a given stdv is scaled by sqrt(3) as in Torch. */
  override reset(stdv?: number): this {
    fillUniform(uniformBound(stdv, 1 / Math.sqrt(this.bias.size)), [this.bias]);
    return this;
  }

  override updateOutput(input: Tensor): Tensor {
    const x = floatTensor(input);
    const b = this.bias;
    if (this.scalar || x.shape.join() === this.shape.join()) return add(x, b);
    const n = x.shape[0] ?? 0;
    if (x.rank < 2 || x.size !== n * this.inputSize) {
      const want = fmtShape(this.shape);
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, expected ${want} or a batch [N, ...] of ${this.inputSize} elements each`,
      );
    }
    return tidy(() => reshape(add(reshape(x, [n, this.inputSize]), reshape(b, [this.inputSize])), x.shape));
  }
}
