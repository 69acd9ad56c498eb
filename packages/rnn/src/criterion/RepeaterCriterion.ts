import type { Activity } from '../module/activity.js';
import { type Tensor, WebrnnError, add, tidy } from '../module/deps.js';
import { toSteps } from '../rnn/Sequencer.js';
import type { Criterion, Target } from './Criterion.js';
import { DecoratorCriterion } from './DecoratorCriterion.js';
import { stepLoss } from './SequencerCriterion.js';

/**
 * Element-research's nn.RepeaterCriterion: applies one criterion with the same target to every step of a
 * sequence of outputs (e.g. from nn.Repeater) and adds the losses. The input is a table of steps or a tensor
 * [T, ...]; its gradient has the same form.
 */
export class RepeaterCriterion extends DecoratorCriterion {
  constructor(criterion: Criterion) {
    super('nn.RepeaterCriterion', criterion);
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
}
