import type { Activity } from './activity.js';
import { floatTensor, positiveInt } from './checks.js';
import { type Tensor, WebrnnError, add, fmtShape, noGrad, reshape, tidy, uniform, zeros } from './deps.js';
import { Module } from './Module.js';

/**
 * A learned bias (torch's nn.Add): y = x + b with b of size `inputSize`, added to an input [inputSize] or to
 * each example of a batch; with `scalar` one learned number is added to every element.
 */
export class Add extends Module {
  constructor(
    readonly inputSize: number,
    readonly scalar = false,
  ) {
    super();
    positiveInt('nn.Add', 'inputSize', inputSize);
    this.registerParameter('bias', zeros([scalar ? 1 : inputSize]));
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
    const b = this.bias;
    const s = stdv !== undefined ? stdv * Math.sqrt(3) : 1 / Math.sqrt(b.shape[0]!);
    noGrad(() => {
      const r = uniform(b.shape, -s, s, { dtype: b.dtype, device: b.device });
      b.copy_(r);
      r.dispose();
    });
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const x = floatTensor(input);
    const b = this.bias;
    if (this.scalar || (x.rank === 1 && x.shape[0] === this.inputSize)) return add(x, b);
    const n = x.shape[0] ?? 0;
    if (x.rank < 2 || x.size !== n * this.inputSize) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, expected [${this.inputSize}] or a batch [N, ...] of ${this.inputSize} elements each`,
      );
    }
    return tidy(() => reshape(add(reshape(x, [n, this.inputSize]), b), x.shape));
  }
}
