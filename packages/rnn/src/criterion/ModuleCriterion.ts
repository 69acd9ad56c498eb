import type { Activity } from '../module/activity.js';
import { type DType, type Tensor, WebrnnError } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { Criterion, type Target } from './Criterion.js';

/**
 * dpnn's nn.ModuleCriterion: a criterion whose input first goes through `inputModule` and whose target first goes
 * through `targetModule` (either may be null): loss = criterion(inputModule(input), targetModule(target)). Its
 * backward is the criterion's backward, then the input module's (so that module's parameters, if it has any,
 * accumulate gradients as any module's backward does; the criterion does not list them). type() converts the
 * target module only with `castTarget` (default true: a module that makes class indices sets it false).
 *
 * The modules are parts of the criterion: clone() copies them (as Torch's clone) and dispose() frees them.
 */
export class ModuleCriterion extends Criterion {
  /** The last forward's input and target as the criterion saw them (Torch's self.input, self.target). */
  input: Activity | null = null;
  target: Activity | null = null;

  constructor(
    readonly criterion: Criterion,
    readonly inputModule: Module | null = null,
    readonly targetModule: Module | null = null,
    readonly castTarget = true,
  ) {
    super();
    const bad = (what: string, v: unknown, want: string) =>
      new WebrnnError('nn.ModuleCriterion', `${what} must be ${want}, got ${String(v)}`);
    if (!(criterion instanceof Criterion)) throw bad('criterion', criterion, 'a criterion');
    for (const [what, m] of [
      ['inputModule', inputModule],
      ['targetModule', targetModule],
    ] as const) {
      if (m !== null && !(m instanceof Module)) throw bad(what, m, 'a module or null');
    }
    if (typeof castTarget !== 'boolean') throw bad('castTarget', castTarget, 'a boolean');
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    this.input = this.inputModule ? this.inputModule.forward(input) : null;
    if (this.targetModule) {
      if (typeof target === 'number') {
        throw new WebrnnError(
          'target',
          `is the number ${target}: the target module needs a tensor or a table`,
        );
      }
      this.target = this.targetModule.forward(target);
    } else this.target = null;
    return this.criterion.forward(this.input ?? input, this.target ?? target);
  }

  /** Torch's order: the criterion's backward from the last forward, then the input module's. */
  override backward<I extends Activity>(input: I, target: Target): I {
    try {
      if (this.output === null) {
        throw new WebrnnError('backward', 'called before forward: there is no loss to backpropagate from');
      }
      const inner = this.criterion.backward(this.input ?? input, this.target ?? target);
      this.gradInput = this.inputModule ? this.inputModule.backward(input, inner) : inner;
      return this.gradInput as I;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  override type(dtype: DType): this {
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new WebrnnError(
        `${this.describe()}.type`,
        `dtype must be float32 or float64, got ${String(dtype)}`,
      );
    }
    this.criterion.type(dtype);
    this.inputModule?.type(dtype);
    if (this.castTarget) this.targetModule?.type(dtype);
    return this;
  }

  override clone(): this {
    const last = [this.input, this.target] as const;
    this.input = this.target = null; // the last call is not copied
    try {
      const c = super.clone() as { -readonly [K in keyof ModuleCriterion]: ModuleCriterion[K] };
      c.inputModule = this.inputModule?.clone() ?? null;
      c.targetModule = this.targetModule?.clone() ?? null;
      return c as unknown as this;
    } finally {
      [this.input, this.target] = last;
    }
  }

  override dispose(): void {
    this.criterion.dispose();
    this.inputModule?.dispose();
    this.targetModule?.dispose();
    this.input = this.target = null;
    super.dispose();
  }

  override describe(): string {
    const parts = [
      this.criterion.describe(),
      this.inputModule?.describe() ?? 'nil',
      this.targetModule?.describe() ?? 'nil',
    ];
    return `${this.typeName}(${parts.join(', ')})`;
  }
}
