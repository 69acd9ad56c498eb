import { type Activity, flattenActivity, mapActivity, unflattenActivity } from '../nn/activity.js';
import { type Tensor, boundary, onesLike, tidy, vjp, zeros } from '../nn/deps.js';
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
  /** What the last forward saw (before its boundaries), to tell whether backward's arguments are the same. */
  private lastInput: Activity | null = null;
  private lastTarget: Target | null = null;

  get typeName(): string {
    return `nn.${this.constructor.name}`;
  }

  abstract updateOutput(input: Activity, target: Target): Tensor;

  forward(input: Activity, target: Target): Tensor {
    try {
      const seen = mapActivity(input, boundary);
      this.output = this.updateOutput(seen, target);
      this.boundaryInput = seen;
      this.lastInput = input;
      this.lastTarget = target;
      return this.output;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  /**
   * The gradient of the loss with respect to `input` for `target`. As in Torch it is computed from the arguments:
   * when they are the tensors of the last forward (recorded on the tape), that forward's graph is reused;
   * otherwise the loss is evaluated again for them (without changing `output`).
   */
  backward(input: Activity, target: Target): Activity {
    try {
      const same = input === this.lastInput && target === this.lastTarget;
      if (same && this.output?.requiresGrad && this.boundaryInput) {
        this.gradInput = this.gradientOf(this.output, this.boundaryInput);
        return this.gradInput;
      }
      const seen = mapActivity(input, boundary);
      const loss = this.updateOutput(seen, target);
      this.gradInput = this.gradientOf(loss, seen);
      loss.dispose();
      return this.gradInput;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  private gradientOf(loss: Tensor, seen: Activity): Activity {
    const ins = flattenActivity(seen);
    const grads = tidy(() => {
      const raw = loss.requiresGrad
        ? vjp([loss], [onesLike(loss)], ins, { retainGraph: true })
        : ins.map(() => null);
      return raw.map((g, i) => g ?? zeros(ins[i]!.shape, { dtype: ins[i]!.dtype, device: ins[i]!.device }));
    });
    return unflattenActivity(seen, grads);
  }

  updateGradInput(input: Activity, target: Target): Activity {
    return this.backward(input, target);
  }

  /**
   * Forget the last call and free what the criterion keeps between calls (subclasses: a reward, a mask, and the
   * criteria they decorate). The loss and gradInput it returned belong to the caller (tidy or dispose them).
   * Also `using c = new nn.MSECriterion()`.
   */
  dispose(): void {
    this.output = null;
    this.gradInput = null;
    this.boundaryInput = null;
    this.lastInput = null;
    this.lastTarget = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  describe(): string {
    return this.typeName;
  }

  toString(): string {
    return this.describe();
  }

  /** `console.log(m)` in Node prints Torch's description, not the internal fields (no node:util import needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
