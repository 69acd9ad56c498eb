import { type Activity, flattenActivity } from '../nn/activity.js';
import { type Tensor, WebrnnError, zeros } from '../nn/deps.js';
import type { Module } from '../nn/Module.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';

/** A size: one dim, a shape, or a table of them (for table-valued states such as an LSTM cell's [h, c]). */
export type OutputSize = number | readonly number[] | readonly OutputSize[];

/**
 * Element-research's nn.Recurrence: decorates a module that maps [input(t), output(t-1)] to output(t). The first
 * step sees zeros of `outputSize` (per sample; the batch size comes from the input, which has `nInputDim`
 * dims per sample).
 */
export class Recurrence extends AbstractRecurrent {
  constructor(
    module: Module,
    readonly outputSize: OutputSize,
    readonly nInputDim = 1,
    rho?: number,
  ) {
    super(rho);
    this.add(module);
  }

  get module(): Module {
    return this.modules[0]!;
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const out = this.forwardChild(0, [input, prevState!]);
    return { output: out, state: out };
  }

  protected override initialState(input: Activity): Activity {
    const x = flattenActivity(input)[0]!;
    const batch = x.rank > this.nInputDim ? x.shape.slice(0, x.rank - this.nInputDim) : [];
    const dtype = x.dtype === 'int32' ? 'float32' : x.dtype;
    const params = this.parameters()[0];
    const like = params[0]?.dtype ?? dtype;
    const make = (s: OutputSize): Activity => {
      if (typeof s === 'number') return zeros([...batch, s], { dtype: like, device: x.device });
      if (s.every((d) => typeof d === 'number'))
        return zeros([...batch, ...(s as number[])], { dtype: like, device: x.device });
      return (s as readonly OutputSize[]).map(make);
    };
    if (typeof this.outputSize !== 'number' && !Array.isArray(this.outputSize)) {
      throw new WebrnnError('nn.Recurrence', `outputSize must be a size, a shape or a table of them`);
    }
    return make(this.outputSize);
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}

export type { Tensor };
