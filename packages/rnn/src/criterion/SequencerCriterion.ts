import type { Activity } from '../nn/activity.js';
import { type Tensor, WebrnnError, add, div, tidy } from '../nn/deps.js';
import { toSteps } from '../rnn/Sequencer.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * Applies a criterion to every step of a sequence and adds the losses (divided by the number of steps with
 * `sizeAverage`, default false as in Torch). Inputs and targets are arrays of steps or tensors [T, ...].
 */
export class SequencerCriterion extends Criterion {
  constructor(
    readonly criterion: Criterion,
    public sizeAverage = false,
  ) {
    super();
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const inputs = toSteps(input);
    if (typeof target === 'number')
      throw new WebrnnError('target', 'expected one target per step, got a number');
    const targets = toSteps(target);
    if (inputs.length !== targets.length) {
      throw new WebrnnError('target', `has ${targets.length} steps but the input has ${inputs.length}`);
    }
    return tidy(() => {
      let total = stepLoss(this.criterion, inputs, targets, 0);
      for (let t = 1; t < inputs.length; t++)
        total = add(total, stepLoss(this.criterion, inputs, targets, t));
      return this.sizeAverage ? div(total, inputs.length) : total;
    });
  }

  /** Also the decorated criterion's. */
  override dispose(): void {
    this.criterion.dispose();
    super.dispose();
  }

  override describe(): string {
    return `${this.typeName}(${this.criterion.describe()})`;
  }
}

/** The criterion on step `t`; an error names the step (e.g. `step 3: target: class 10 is out of range ...`). */
export function stepLoss(criterion: Criterion, inputs: Activity[], targets: Target[], t: number): Tensor {
  try {
    return criterion.updateOutput(inputs[t]!, targets[t]!);
  } catch (e) {
    if (e instanceof Error) throw new WebrnnError(`step ${t}`, e.message);
    throw e;
  }
}
