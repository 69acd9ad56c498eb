import type { Activity } from '../nn/activity.js';
import { type Tensor, WebrnnError, add, tidy } from '../nn/deps.js';
import { Criterion, type Target } from './Criterion.js';

/** Applies one criterion with the same target to every step of a table of outputs, and adds the losses. */
export class RepeaterCriterion extends Criterion {
  constructor(readonly criterion: Criterion) {
    super();
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    if (!Array.isArray(input) || input.length === 0) {
      throw new WebrnnError('input', 'expected a table of step outputs (e.g. from nn.Repeater)');
    }
    const steps = input as readonly Activity[];
    return tidy(() =>
      steps
        .slice(1)
        .reduce<Tensor>(
          (sum, x) => add(sum, this.criterion.updateOutput(x, target)),
          this.criterion.updateOutput(steps[0]!, target),
        ),
    );
  }

  override describe(): string {
    return `${this.typeName}(${this.criterion.describe()})`;
  }
}
