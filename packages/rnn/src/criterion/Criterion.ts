import { type Activity, flattenActivity, mapActivity, unflattenActivity } from '../nn/activity.js';
import { type Tensor, WebrnnError, boundary, onesLike, tidy, vjp, zeros } from '../nn/deps.js';
import { ModuleError } from '../nn/errors.js';

/**
 * Torch's nn.Criterion on the tape: `forward(input, target)` returns the loss as a scalar tensor (read it with
 * `await loss.item()`), `backward(input, target)` returns the gradient of the loss with respect to the input.
 */
/** A target: a tensor, a table of them, or a plain number (a class index or a value). */
export type Target = Activity | number;

export abstract class Criterion {
  output: Tensor | null = null;
  gradInput: Activity | null = null;
  private boundaryInput: Activity | null = null;

  get typeName(): string {
    return `nn.${this.constructor.name}`;
  }

  abstract updateOutput(input: Activity, target: Target): Tensor;

  forward(input: Activity, target: Target): Tensor {
    try {
      const seen = mapActivity(input, boundary);
      this.output = this.updateOutput(seen, target);
      this.boundaryInput = seen;
      return this.output;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  backward(_input: Activity, _target: Target): Activity {
    try {
      if (!this.output || !this.boundaryInput) {
        throw new WebrnnError('backward', 'called before forward: there is no loss to backpropagate from');
      }
      const loss = this.output;
      const ins = flattenActivity(this.boundaryInput);
      const grads = tidy(() => {
        const raw = loss.requiresGrad
          ? vjp([loss], [onesLike(loss)], ins, { retainGraph: true })
          : ins.map(() => null);
        return raw.map((g, i) => g ?? zeros(ins[i]!.shape, { dtype: ins[i]!.dtype, device: ins[i]!.device }));
      });
      this.gradInput = unflattenActivity(this.boundaryInput, grads);
      return this.gradInput;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  updateGradInput(input: Activity, target: Target): Activity {
    return this.backward(input, target);
  }

  describe(): string {
    return this.typeName;
  }

  toString(): string {
    return this.describe();
  }
}
