import type { Activity } from '../module/activity.js';
import { type Tensor, WebrnnError, add, div, fmtShape, keep, select, tidy } from '../module/deps.js';
import { toSteps } from '../rnn/Sequencer.js';
import type { Criterion, Target } from './Criterion.js';
import { DecoratorCriterion } from './DecoratorCriterion.js';

/**
 * Applies a criterion to every step of a sequence and adds the losses (divided by the number of steps with
 * `sizeAverage`, default false as in Torch). Inputs and targets are arrays of steps or tensors [T, ...].
 * torch/rnn's `setZeroMask(zeroMask)`: `zeroMask` [T, N] (non-zero where a step's row is padding) gives step t's
 * criterion row t, for a decorated criterion that takes a mask (MaskZeroCriterion): the way to mask padding on a
 * device that cannot be read synchronously, where MaskZeroCriterion cannot look for zero rows.
 */
export class SequencerCriterion extends DecoratorCriterion {
  private zeroMask: Tensor | null = null;

  constructor(
    criterion: Criterion,
    public sizeAverage = false,
  ) {
    super('nn.SequencerCriterion', criterion);
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const inputs = toSteps(input);
    if (typeof target === 'number')
      throw new WebrnnError('target', 'expected one target per step, got a number');
    const targets = toSteps(target);
    if (inputs.length !== targets.length) {
      throw new WebrnnError('target', `has ${targets.length} steps but the input has ${inputs.length}`);
    }
    const mask = this.zeroMask;
    if (mask && mask.shape[0] !== inputs.length) {
      throw new WebrnnError(
        'zeroMask',
        `has shape ${fmtShape(mask.shape)} (${mask.shape[0]} steps), but the input has ${inputs.length} steps`,
      );
    }
    const masked = this.criterion as Criterion & Partial<Maskable>;
    const loss = (t: number) => {
      if (mask) masked.setZeroMask!(select(mask, 0, t));
      return stepLoss(this.criterion, inputs, targets, t);
    };
    try {
      return tidy(() => {
        let total = loss(0);
        for (let t = 1; t < inputs.length; t++) total = add(total, loss(t));
        return this.sizeAverage ? div(total, inputs.length) : total;
      });
    } finally {
      if (mask) masked.setZeroMask!(null);
    }
  }

  /** Mask padding explicitly: step t's criterion gets row t of `zeroMask` [T, N]; null or false: no mask. */
  setZeroMask(zeroMask: Tensor | null | false): this {
    const name = `${this.typeName}.setZeroMask`;
    if (zeroMask && zeroMask.rank < 2) {
      throw new WebrnnError(
        name,
        `zeroMask has shape ${fmtShape(zeroMask.shape)}, expected [T, N] (steps, batch)`,
      );
    }
    if (zeroMask && typeof (this.criterion as Partial<Maskable>).setZeroMask !== 'function') {
      throw new WebrnnError(
        name,
        `the decorated ${this.criterion.typeName} takes no mask; decorate a MaskZeroCriterion`,
      );
    }
    this.zeroMask?.dispose();
    this.zeroMask = zeroMask ? keep(zeroMask.handle()) : null;
    return this;
  }

  override dispose(): void {
    this.setZeroMask(null);
    super.dispose();
  }
}

/** A criterion that takes an explicit mask of padded rows (MaskZeroCriterion). */
interface Maskable {
  setZeroMask(zeroMask: Tensor | null | false): unknown;
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
