import { type Activity, describeActivity, expectTable, mapActivity } from '../module/activity.js';
import { type Tensor, WebrnnError, add, fmtShape, mul, select, tidy, zeros } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * torch/nn's ParallelCriterion: a weighted sum of criteria, criterion i on entry i of the input table:
 * loss = sum_i weights[i] * criterions[i](input[i], target_i), with target_i = target when `repeatTarget`, else
 * entry i of the target (a table's entry, or row i of a tensor, as Lua's `target[i]`). Input entries beyond the
 * criteria are ignored (their gradient is zero); the gradInput has the input's form.
 *
 * Its backward is Torch's: each criterion's own backward, times its weight, so that a criterion whose backward
 * does more than differentiate its loss (VRClassReward hands out rewards and trains its baseline) works inside.
 */
export class ParallelCriterion extends Criterion {
  readonly criterions: Criterion[] = [];
  readonly weights: number[] = [];

  constructor(readonly repeatTarget = false) {
    super();
    if (typeof repeatTarget !== 'boolean') {
      throw new WebrnnError(
        'nn.ParallelCriterion',
        `repeatTarget must be a boolean, got ${String(repeatTarget)}`,
      );
    }
  }

  /** Torch's add(criterion, weight): appends a criterion for the next input entry; returns this. */
  add(criterion: Criterion, weight = 1): this {
    const where = `${this.typeName}.add`;
    if (!(criterion instanceof Criterion)) {
      throw new WebrnnError(where, `expected a criterion, got ${String(criterion)}`);
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight)) {
      throw new WebrnnError(where, `weight must be a finite number, got ${String(weight)}`);
    }
    this.criterions.push(criterion);
    this.weights.push(weight);
    return this;
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const n = this.criterions.length;
    // Torch would return 0: a sum over nothing is almost surely a forgotten add().
    if (n === 0) throw new WebrnnError('criterions', 'none were added (add(criterion, weight) first)');
    const inputs = expectTable('input', input);
    if (inputs.length < n) {
      throw new WebrnnError(
        'input',
        `has ${inputs.length} entries ${describeActivity(input)}, expected ${n} or more (one per criterion)`,
      );
    }
    return tidy(() => {
      let total: Tensor | null = null;
      for (let i = 0; i < n; i++) {
        const loss = mul(this.lossOf(i, inputs[i]!, this.targetOf(i, target, n)), this.weights[i]!);
        total = total === null ? loss : add(total, loss);
      }
      return total!;
    });
  }

  override backward<I extends Activity>(input: I, target: Target): I {
    try {
      const n = this.criterions.length;
      if (n === 0) throw new WebrnnError('criterions', 'none were added (add(criterion, weight) first)');
      const inputs = expectTable('input', input);
      if (inputs.length < n) {
        throw new WebrnnError(
          'input',
          `has ${inputs.length} entries ${describeActivity(input)}, expected ${n} or more (one per criterion)`,
        );
      }
      this.gradInput = inputs.map((x, i) => {
        if (i >= n) return mapActivity(x, (t) => zeros(t.shape, { dtype: t.dtype, device: t.device }));
        const g = this.run(i, () => this.criterions[i]!.backward(x, this.targetOf(i, target, n)));
        const w = this.weights[i]!;
        return w === 1 ? g : mapActivity(g, (t) => mul(t, w));
      });
      return this.gradInput as I;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  private targetOf(i: number, target: Target, n: number): Target {
    if (this.repeatTarget) return target;
    if (typeof target === 'number') {
      throw new WebrnnError(
        'target',
        `is the number ${target}, expected a table of ${n} targets (or repeatTarget)`,
      );
    }
    if (Array.isArray(target)) {
      if (target.length < n) {
        throw new WebrnnError(
          'target',
          `has ${target.length} entries, expected ${n} or more (one per criterion)`,
        );
      }
      return target[i]!;
    }
    const t = target as Tensor;
    if (t.rank < 1 || t.shape[0]! < n) {
      throw new WebrnnError(
        'target',
        `has shape ${fmtShape(t.shape)}, expected ${n} or more rows (one per criterion)`,
      );
    }
    return select(t, 0, i);
  }

  /** Criterion i's loss. */
  private lossOf(i: number, input: Activity, target: Target): Tensor {
    return this.run(i, () => this.criterions[i]!.updateOutput(input, target));
  }

  /** Criterion i's work; an error names it (e.g. `criterion 1 (nn.ClassNLLCriterion): target: class 9 ...`). */
  private run<T>(i: number, work: () => T): T {
    try {
      return work();
    } catch (e) {
      if (e instanceof Error) {
        throw new WebrnnError(`criterion ${i} (${this.criterions[i]!.describe()})`, e.message);
      }
      throw e;
    }
  }

  /** Also its criteria's (held in an array, which the base class does not look into). */
  override type(dtype: Parameters<Criterion['type']>[0]): this {
    super.type(dtype);
    for (const c of this.criterions) c.type(dtype);
    return this;
  }

  override to(device: Parameters<Criterion['to']>[0]): this {
    super.to(device);
    for (const c of this.criterions) c.to(device);
    return this;
  }

  override dispose(): void {
    for (const c of this.criterions) c.dispose();
    super.dispose();
  }

  override describe(): string {
    const parts = this.criterions.map((c, i) => `${this.weights[i]} * ${c.describe()}`);
    return `${this.typeName}(${this.repeatTarget ? 'repeatTarget: ' : ''}${parts.join(' + ')})`;
  }
}
