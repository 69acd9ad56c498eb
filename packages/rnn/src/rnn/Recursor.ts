import type { Activity } from '../module/activity.js';
import type { Module } from '../module/Module.js';
import { type Tensor, select } from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import { AbstractRecurrent, type SequenceResult } from './AbstractRecurrent.js';

/**
 * Decorates any module so that it follows the AbstractRecurrent protocol: one forward per time step, backward
 * in reverse order. The state lives in the recurrent modules inside (e.g. a Recurrent or FastLSTM in a Sequential).
 */
export class Recursor<
  In extends Activity = Activity,
  Out extends Activity = Activity,
> extends AbstractRecurrent<In, Out> {
  constructor(module: Module<In, Out>, rho?: number) {
    super(rho);
    this.add(module);
  }

  get module(): Module {
    return this.modules[0]!;
  }

  protected override stepForward(input: Activity): { output: Activity; state: null } {
    return { output: this.forwardChild(0, input), state: null };
  }

  protected override initialState(): null {
    return null;
  }

  /**
   * In evaluation, a Linear (whose forward takes [..., inputSize]) runs once over the whole sequence [T, N, in]
   * instead of T times: the same values, without T step calls, T slices and a stack. Training keeps stepping, so
   * that each step has its graph for the step-wise backward.
   */
  protected override canForwardSequence(_input: Tensor): boolean {
    return !this.train && this.module.constructor === Linear;
  }

  protected override sequenceForward(x: Tensor): SequenceResult {
    const output = this.forwardChild(0, x) as Tensor;
    const steps = Array.from({ length: x.shape[0]! }, (_, t) => ({
      output: select(output, 0, t),
      state: null,
    }));
    return { output, steps };
  }

  // The state lives in the decorated module: Torch's Recursor passes the state API on to it.

  override getHiddenState(step?: number): Activity | null {
    return this.module.getHiddenState(step);
  }

  override setHiddenState(state: Activity | null): void {
    this.module.setHiddenState(state);
  }

  override getGradHiddenState(): Activity | null {
    return this.module.getGradHiddenState();
  }

  override setGradHiddenState(grad: Activity | null): void {
    this.module.setGradHiddenState(grad);
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}
