import { Criterion, tapeCriterion } from './Criterion.js';

/**
 * A criterion that applies another one on the tape (SequencerCriterion, RepeaterCriterion, MaskZeroCriterion):
 * it refuses a criterion whose backward is its own (tapeCriterion), frees it with itself, and prints it inside
 * its own name as Torch does, e.g. `nn.SequencerCriterion(nn.ClassNLLCriterion)`.
 */
export abstract class DecoratorCriterion extends Criterion {
  readonly criterion: Criterion;

  protected constructor(owner: string, criterion: Criterion) {
    super();
    this.criterion = tapeCriterion(owner, criterion);
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
