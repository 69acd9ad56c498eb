import { expectTensor } from '../module/activity.js';
import { Tensor, WebrnnError, expand, noGrad, tensor, tidy } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * dpnn's nn.Constant: outputs `value` whatever the input (e.g. `ConcatTable().add(Constant(v)).add(Identity())`
 * appends a constant to an input). With `nInputDim`, an input of more dimensions is a batch: the output is
 * `value` repeated over its first dimension, [N, ...value's shape]. A number is a tensor [1] (Torch's
 * `torch.Tensor{v}`). The gradInput is zeros shaped like the input: nothing flows back.
 *
 * The value is the module's copy, a buffer (it saves with the model and follows type() and to()); the output is
 * a fresh tensor on its device and in its dtype, whatever the input's (indices may feed it).
 */
export class Constant extends Module<Tensor, Tensor> {
  readonly value: Tensor;

  constructor(
    value: number | Tensor,
    readonly nInputDim?: number,
  ) {
    super();
    const bad = (what: string, v: unknown, want: string) =>
      new WebrnnError('nn.Constant', `${what} must be ${want}, got ${String(v)}`);
    if (!(typeof value === 'number' || value instanceof Tensor) || (value as Tensor).isDisposed) {
      throw bad('value', value, 'a number or a live tensor');
    }
    if (nInputDim !== undefined && (!Number.isInteger(nInputDim) || nInputDim < 0)) {
      throw bad('nInputDim', nInputDim, 'a non-negative integer');
    }
    const own = noGrad(() => (typeof value === 'number' ? tensor([value]) : value.clone()));
    this.value = this.registerBuffer('value', own);
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const v = this.value;
    if (x.device !== v.device) {
      throw new WebrnnError(
        'input',
        `is on ${x.device}, the constant on ${v.device} (move the module with .to('${x.device}'))`,
      );
    }
    const batched = this.nInputDim !== undefined && x.rank > this.nInputDim;
    // A copy, not the buffer: the caller may dispose the output.
    return tidy(() => (batched ? expand(v.unsqueeze(0), [x.shape[0]!, ...v.shape]) : v).clone());
  }

  override describe(): string {
    return `${this.typeName}(${this.value.shape.join('x')}${this.nInputDim !== undefined ? `, ${this.nInputDim}` : ''})`;
  }
}
