import type { Activity } from '../module/activity.js';
import { Container } from '../module/Container.js';
import { type Tensor, WebrnnError, fmtShape, stack, unbind } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import type { Module } from '../module/Module.js';
import { AbstractRecurrent, oneLine } from './AbstractRecurrent.js';
import { Recursor } from './Recursor.js';

/**
 * Applies a module to every step of a sequence: an array of steps, or a tensor [T, N, ...] (the output then has
 * the same form). A module that is not recurrent is wrapped in a Recursor. Before each sequence the module
 * forgets its state unless it remembers (see AbstractRecurrent.remember). Backward is one vector-Jacobian
 * product over the whole unrolled sequence. A tensor sequence through a module with a whole-sequence op (FastLSTM
 * without dropout, batch normalisation or masking) runs as that op instead of step by step: the same results,
 * state and gradients, but the module's step-wise backward is then unavailable for that sequence.
 */
export class Sequencer<
  StepIn extends Activity = Activity,
  StepOut extends Activity = Activity,
> extends Container {
  constructor(module: Module<StepIn, StepOut>) {
    super();
    this.add(module instanceof AbstractRecurrent ? module : new Recursor(module));
  }

  /** A sequence as a tensor [T, N, ...] gives a tensor; as an array of steps, an array of step outputs. */
  override forward(input: Tensor): Tensor;
  override forward(input: readonly StepIn[]): StepOut[];
  override forward(input: Activity): Activity;
  override forward(input: Activity): Activity {
    return super.forward(input);
  }

  get module(): AbstractRecurrent {
    return this.modules[0] as AbstractRecurrent;
  }

  override updateOutput(input: Activity): Activity {
    let length: number;
    try {
      length = sequenceLength(input);
    } catch (e) {
      // Named on one line (Module.forward would name this module by its whole printed tree).
      throw e instanceof Error ? new ModuleError([oneLine(this)], e.message) : e;
    }
    const m = this.module;
    if (m.remembering) m.cutGraph();
    else m.forget();
    m.maxBPTTstep(Math.max(m.rho, length));
    // A tensor sequence runs as one op where the module has one (FastLSTM): per-step work dominates small batches.
    const whole = Array.isArray(input) ? null : this.forwardWhole(m, input as Tensor);
    if (whole) return whole;
    const outputs = toSteps(input).map((x, t) => {
      try {
        return m.forward(x);
      } catch (e) {
        throw ModuleError.within(e, `${this.typeName} step ${t}`);
      }
    });
    return Array.isArray(input) ? outputs : stack(outputs.map((o) => o as Tensor));
  }

  private forwardWhole(m: AbstractRecurrent, input: Tensor): Tensor | null {
    try {
      return m.forwardSequence(input);
    } catch (e) {
      // The whole-sequence op takes only inputs whose steps would pass; what it still refuses is step 0's state.
      throw ModuleError.within(e, `${this.typeName} step 0`);
    }
  }

  /** Remember the state between sequences (see AbstractRecurrent.remember). */
  override remember(mode: Parameters<AbstractRecurrent['remember']>[0] = 'both'): this {
    this.module.remember(mode);
    return this;
  }

  override forget(): this {
    this.module.forget();
    return this;
  }

  /** As Torch's Sequencer: switching from evaluation to training forgets the state. */
  override training(): this {
    if (!this.train) this.module.forget();
    return super.training();
  }

  /** As Torch's Sequencer: switching from training to evaluation forgets the state. */
  override evaluate(): this {
    if (this.train) this.module.forget();
    return super.evaluate();
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}

/** The steps of a sequence: the entries of an array, or the slices of a tensor along its first axis. */
export function toSteps(input: Activity): Activity[] {
  sequenceLength(input);
  return Array.isArray(input) ? [...input] : unbind(input as Tensor, 0);
}

/** The number of steps of a sequence (an array of steps, or a tensor [T, ...]); refuses an empty one. */
function sequenceLength(input: Activity): number {
  if (Array.isArray(input)) {
    if (input.length === 0) throw new WebrnnError('input', 'the sequence is empty');
    return input.length;
  }
  const x = input as Tensor;
  if (x.rank < 1 || x.shape[0] === 0) {
    throw new WebrnnError(
      'input',
      `expected a sequence [T, ...] with T >= 1, got shape ${fmtShape(x.shape)}`,
    );
  }
  return x.shape[0]!;
}
