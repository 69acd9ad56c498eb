import type { Activity } from '../module/activity.js';
import { type Tensor, WebrnnError, add, tidy } from '../module/deps.js';
import { toSteps } from '../rnn/Sequencer.js';
import { Criterion, type Target, tapeCriterion } from './Criterion.js';
import { stepLoss } from './SequencerCriterion.js';

/**
 * Element-research's nn.RepeaterCriterion: applies one criterion with the same target to every step of a
 * sequence of outputs (e.g. from nn.Repeater) and adds the losses. The input is a table of steps or a tensor
 * [T, ...]; its gradient has the same form.
 */
export class RepeaterCriterion extends Criterion {
  constructor(readonly criterion: Criterion) {
    super();
    tapeCriterion('nn.RepeaterCriterion', criterion);
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    if (Array.isArray(input) && input.length === 0) {
      throw new WebrnnError(
        'input',
        'expected a table of step outputs (e.g. from nn.Repeater), got an empty table',
      );
    }
    const steps = toSteps(input);
    const targets = steps.map(() => target);
    return tidy(() => {
      let total = stepLoss(this.criterion, steps, targets, 0);
      for (let t = 1; t < steps.length; t++) total = add(total, stepLoss(this.criterion, steps, targets, t));
      return total;
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
