import { expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, fmtShape, reshape } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Reshapes its input to `size` (torch's nn.Reshape): `new nn.Reshape(2, 3)`, optionally with a final boolean
 * `batchMode`. Without it, an input with exactly size's elements and a first dimension other than 1 is reshaped
 * whole, and anything else is a batch whose first dimension is kept; `batchMode` true or false forces the choice,
 * as in Torch. A view where the strides allow, else a copy.
 */
export class Reshape extends Module<Tensor, Tensor> {
  readonly size: number[];
  readonly batchMode: boolean | undefined;
  readonly nelement: number;

  constructor(...args: (number | boolean | readonly number[])[]) {
    super();
    const a = [...args];
    this.batchMode = typeof a[a.length - 1] === 'boolean' ? (a.pop() as boolean) : undefined;
    this.size = a.length === 1 && Array.isArray(a[0]) ? [...(a[0] as number[])] : (a as number[]);
    if (this.size.length === 0 || this.size.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new WebrnnError('nn.Reshape', `sizes must be non-negative integers, got (${args.join(', ')})`);
    }
    this.nelement = this.size.reduce((p, d) => p * d, 1);
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const whole =
      this.batchMode === false ||
      (this.batchMode === undefined && x.size === this.nelement && x.shape[0] !== 1);
    if (whole) {
      if (x.size !== this.nelement) {
        throw new WebrnnError(
          'input',
          `has shape ${fmtShape(x.shape)} (${x.size} elements), expected ${this.nelement} elements for ${this.sizeText()}`,
        );
      }
      return reshape(x, this.size);
    }
    const n = x.shape[0] ?? 1;
    if (x.rank === 0 || x.size !== n * this.nelement) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, expected ${this.nelement} elements (${this.sizeText()}) or a batch of them`,
      );
    }
    return reshape(x, [n, ...this.size]);
  }

  private sizeText(): string {
    return this.size.join('x');
  }

  override describe(): string {
    return `${this.typeName}(${this.sizeText()})`;
  }
}
