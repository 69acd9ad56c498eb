import { floatTensor, sizesOf } from '../module/checks.js';
import { type Tensor, WebrnnError, fmtShape, mul, reshape, tidy, zeros } from '../module/deps.js';
import { Module } from '../module/Module.js';
import { fillUniform, uniformBound } from './init.js';

/**
 * A learned elementwise scale (torch's nn.CMul): `new nn.CMul(3, 4)` has a weight [3, 4]. As in Torch the
 * weight applies to an input with as many elements (whatever its shape), broadcasts over an input of the same
 * rank (weight dimensions of size 1 stretch), and otherwise scales each example of a batch [N, ...].
 */
export class CMul extends Module<Tensor, Tensor> {
  readonly size: number[];

  constructor(...size: (number | readonly number[])[]) {
    super();
    this.size = sizesOf(size);
    if (this.size.length === 0 || this.size.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new WebrnnError('nn.CMul', `sizes must be positive integers, got (${this.size.join(', ')})`);
    }
    this.registerParameter('weight', zeros(this.size));
    this.reset();
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get gradWeight(): Tensor {
    return this.weight.grad!;
  }

  /** Uniform in [-stdv, stdv], stdv = 1/sqrt(nElement) by default; a given stdv is scaled by sqrt(3) as in Torch. */
  override reset(stdv?: number): this {
    fillUniform(uniformBound(stdv, 1 / Math.sqrt(this.weight.size)), [this.weight]);
    return this;
  }

  override updateOutput(input: Tensor): Tensor {
    const x = floatTensor(input);
    const w = this.weight;
    return tidy(() => {
      if (x.size === w.size) return mul(x, reshape(w, x.shape));
      if (w.rank === x.rank) {
        if (w.shape.some((d, i) => d !== 1 && d !== x.shape[i])) {
          throw new WebrnnError(
            'input',
            `has shape ${fmtShape(x.shape)}, which weight ${fmtShape(w.shape)} cannot expand to`,
          );
        }
        return mul(x, w);
      }
      // A batch along the first dim, as Torch's view(batchSize, -1): a 1-d input is a batch of one-element examples.
      const n = x.shape[0] ?? 0;
      if (x.size !== n * w.size) {
        throw new WebrnnError(
          'input',
          `has shape ${fmtShape(x.shape)}, expected ${w.size} elements like weight ${fmtShape(w.shape)} or a batch [N, ...] of them`,
        );
      }
      return reshape(mul(reshape(x, [n, w.size]), reshape(w, [1, w.size])), x.shape);
    });
  }
}
