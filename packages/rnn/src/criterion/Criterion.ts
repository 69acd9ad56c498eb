import { type Activity, flattenActivity, mapActivity, unflattenActivity } from '../module/activity.js';
import {
  type DType,
  type DeviceName,
  Tensor,
  WebrnnError,
  boundary,
  cast,
  getBackend,
  keep,
  noGrad,
  onesLike,
  tidy,
  to,
  vjp,
  zeros,
} from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { className } from '../module/className.js';

/**
 * Torch's nn.Criterion on the tape: `forward(input, target)` returns the loss as a scalar tensor (read it with
 * `await loss.item()`), `backward(input, target)` returns the gradient of the loss with respect to the input.
 */
/** A target: a tensor, a table of them, or a plain number (a class index or a value). */
export type Target = Activity | number;

export abstract class Criterion {
  output: Tensor | null = null;
  gradInput: Activity | null = null;
  private boundaryInput: Activity | null = null;
  /** What the last forward saw (before its boundaries), to tell whether backward's arguments are the same. */
  private lastInput: Activity | null = null;
  private lastTarget: Target | null = null;
  /** Tensors this criterion made for itself (converted or cloned settings such as class weights): dispose frees them. */
  private ownedTensors: Tensor[] = [];

  get typeName(): string {
    return `nn.${className(this.constructor)}`;
  }

  abstract updateOutput(input: Activity, target: Target): Tensor;

  forward(input: Activity, target: Target): Tensor {
    try {
      const seen = mapActivity(input, boundary);
      this.output = this.updateOutput(seen, target);
      this.boundaryInput = seen;
      this.lastInput = input;
      this.lastTarget = target;
      return this.output;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  /**
   * The gradient of the loss with respect to `input` for `target`. As in Torch it is computed from the arguments:
   * when they are the tensors of the last forward (recorded on the tape), that forward's graph is reused;
   * otherwise the loss is evaluated again for them (without changing `output`).
   */
  backward<I extends Activity>(input: I, target: Target): I {
    try {
      const same = input === this.lastInput && target === this.lastTarget;
      if (same && this.output?.requiresGrad && this.boundaryInput) {
        this.gradInput = this.gradientOf(this.output, this.boundaryInput);
        return this.gradInput as I;
      }
      const seen = mapActivity(input, boundary);
      const loss = this.updateOutput(seen, target);
      this.gradInput = this.gradientOf(loss, seen);
      loss.dispose();
      // The gradient has the input's form: a tensor for a tensor, a table of the same shape for a table.
      return this.gradInput as I;
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  private gradientOf(loss: Tensor, seen: Activity): Activity {
    const ins = flattenActivity(seen);
    const grads = tidy(() => {
      const raw = loss.requiresGrad
        ? vjp([loss], [onesLike(loss)], ins, { retainGraph: true })
        : ins.map(() => null);
      return raw.map((g, i) => g ?? zeros(ins[i]!.shape, { dtype: ins[i]!.dtype, device: ins[i]!.device }));
    });
    return unflattenActivity(seen, grads);
  }

  updateGradInput(input: Activity, target: Target): Activity {
    return this.backward(input, target);
  }

  /**
   * Forget the last call and free what the criterion keeps between calls (subclasses: a reward, a mask, and the
   * criteria they decorate). The loss and gradInput it returned belong to the caller (tidy or dispose them).
   * Also `using c = new nn.MSECriterion()`.
   */
  dispose(): void {
    for (const t of this.ownedTensors) if (!t.isDisposed) t.dispose();
    this.ownedTensors = [];
    this.output = null;
    this.gradInput = null;
    this.boundaryInput = null;
    this.lastInput = null;
    this.lastTarget = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- copies, dtypes and devices, as Module's -------------------------------------------------------------

  /**
   * A deep copy (Torch's clone): its own copies of its settings (class weights, a mask) and of the criteria it
   * decorates; the last call's output and gradInput are not carried over. A module it refers to (VRClassReward's
   * policy) is shared, not copied: the copy rewards the same module.
   */
  clone(): this {
    return cloneCriterion(this);
  }

  /** Convert its float settings (class weights) and the criteria it decorates to `dtype` (Torch's :type()). */
  type(dtype: DType): this {
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new WebrnnError(
        `${this.describe()}.type`,
        `dtype must be float32 or float64, got ${String(dtype)}`,
      );
    }
    this.convert(
      (t) => (t.dtype === 'int32' || t.dtype === dtype ? t : cast(t, dtype)),
      (m) => m.type(dtype),
      (c) => c.type(dtype),
    );
    return this;
  }

  float(): this {
    return this.type('float32');
  }

  double(): this {
    return this.type('float64');
  }

  /** Move its settings (class weights) and the criteria it decorates to a device. */
  to(device: DeviceName): this {
    getBackend(device);
    this.convert(
      (t) => (t.device === device ? t : to(t, device)),
      (m) => m.to(device),
      (c) => c.to(device),
    );
    return this;
  }

  /**
   * Apply a conversion to what the criterion holds: the criteria it decorates and the modules it refers to (any
   * field), and its setting tensors, which subclasses with some override `convertSettings` to replace.
   */
  private convert(t: (x: Tensor) => Tensor, m: (x: Module) => unknown, c: (x: Criterion) => unknown): void {
    try {
      for (const v of Object.values(this)) {
        if (v instanceof Criterion) c(v);
        else if (v instanceof Module) m(v);
      }
      noGrad(() => this.convertSettings(t));
    } catch (e) {
      throw ModuleError.wrap(e, this.describe());
    }
  }

  /** Replace each setting tensor (class weights) by `convert(it)` with `this.adopt`; none by default. */
  protected convertSettings(_convert: (t: Tensor) => Tensor): void {}

  /**
   * `next`, made by converting `old`: the criterion keeps it (and frees `old` if it had made that one itself);
   * the caller's tensors are never freed.
   */
  protected adopt(old: Tensor, next: Tensor): Tensor {
    if (next === old) return old;
    keep(next);
    const i = this.ownedTensors.indexOf(old);
    if (i >= 0) {
      old.dispose();
      this.ownedTensors.splice(i, 1);
    }
    this.ownedTensors.push(next);
    return next;
  }

  describe(): string {
    return this.typeName;
  }

  toString(): string {
    return this.describe();
  }

  /** `console.log(m)` in Node prints Torch's description, not the internal fields (no node:util import needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** What a clone leaves behind: the last call. */
const LAST_CALL = new Set(['output', 'gradInput', 'boundaryInput', 'lastInput', 'lastTarget']);

/**
 * Copy a criterion tree: criteria and plain containers field by field, tensors cloned (and owned by the copy
 * that holds them), modules shared. A memo keeps shared references shared.
 */
function cloneCriterion<T extends Criterion>(root: T): T {
  const memo = new Map<unknown, unknown>();
  const copy = (v: unknown, owner: Criterion): unknown => {
    if (v === null || typeof v !== 'object' || v instanceof Module) return v;
    if (memo.has(v)) return memo.get(v);
    if (v instanceof Tensor) {
      if (v.isDisposed) return null;
      const c = keep(noGrad(() => v.clone()));
      (owner as unknown as { ownedTensors: Tensor[] }).ownedTensors.push(c);
      memo.set(v, c);
      return c;
    }
    if (Array.isArray(v)) {
      const a: unknown[] = [];
      memo.set(v, a);
      for (const x of v) a.push(copy(x, owner));
      return a;
    }
    if (v instanceof Criterion || Object.getPrototypeOf(v) === Object.prototype) {
      const o = Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>;
      memo.set(v, o);
      const into = v instanceof Criterion ? (o as unknown as Criterion) : owner;
      if (v instanceof Criterion) o.ownedTensors = [];
      for (const k of Object.keys(v)) {
        if (k === 'ownedTensors' && v instanceof Criterion) continue;
        o[k] =
          v instanceof Criterion && LAST_CALL.has(k) ? null : copy((v as Record<string, unknown>)[k], into);
      }
      return o;
    }
    return v;
  };
  return copy(root, root) as T;
}

/**
 * Check a criterion a decorator (SequencerCriterion, RepeaterCriterion, MaskZeroCriterion) differentiates on the
 * tape: it must be a criterion, and one whose backward is the tape's. A criterion with a backward of its own
 * (VRClassReward hands out its reward there; ModuleCriterion and ParallelCriterion call their parts') would have
 * that work silently skipped by the decorator's one tape backward, so it is refused.
 */
export function tapeCriterion(owner: string, criterion: unknown): Criterion {
  if (!(criterion instanceof Criterion)) {
    throw new WebrnnError(owner, `expected a criterion to decorate, got ${String(criterion)}`);
  }
  if (criterion.backward !== Criterion.prototype.backward) {
    throw new WebrnnError(
      owner,
      `cannot decorate ${criterion.typeName}: its backward does work of its own (a reward, a module's backward) ` +
        "that this decorator's tape backward would skip; apply it per step instead",
    );
  }
  return criterion;
}
