import { type Activity, flattenActivity } from '../module/activity.js';
import { type Tensor, WebrnnError, fmtShape, zeros } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';

/** A size: one dim, a shape, or a table of them (for table-valued states such as an LSTM cell's [h, c]). */
export type OutputSize = number | readonly number[] | readonly OutputSize[];

/**
 * Element-research's nn.Recurrence: decorates a module that maps [input(t), output(t-1)] to output(t). The first
 * step sees zeros of `outputSize` per sample: a size, a shape, or a (nested) table of them for table-valued
 * outputs. The batch size comes from the input's first tensor (depth first), which has `nInputDim` dimensions per
 * sample: with one more, its first dimension is the batch; with exactly `nInputDim`, there is no batch.
 */
export class Recurrence extends AbstractRecurrent {
  constructor(
    module: Module,
    readonly outputSize: OutputSize,
    readonly nInputDim = 1,
    rho?: number,
  ) {
    super(rho);
    if (!(module instanceof Module)) {
      throw new WebrnnError('nn.Recurrence', `expected a module to decorate, got ${String(module)}`);
    }
    checkOutputSize(outputSize);
    if (!Number.isInteger(nInputDim) || nInputDim < 0) {
      throw new WebrnnError('nn.Recurrence', `nInputDim must be a non-negative integer, got ${nInputDim}`);
    }
    this.add(module);
  }

  get module(): Module {
    return this.modules[0]!;
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    this.checkPrevious(input, prevState!);
    const out = this.forwardChild(0, [input, prevState!]);
    return { output: out, state: out };
  }

  /** The batch dims of an input: [] without a batch, [N] with one. */
  private batchOf(input: Activity): number[] {
    const x = flattenActivity(input)[0];
    if (!x)
      throw this.fail('input: is an empty table; expected a tensor or a table with at least one tensor');
    if (x.rank === this.nInputDim) return [];
    if (x.rank === this.nInputDim + 1) return [x.shape[0]!];
    throw this.fail(
      `input: has shape ${fmtShape(x.shape)}, but nInputDim is ${this.nInputDim}: expected ${this.nInputDim} ` +
        `dimension(s) per sample, or ${this.nInputDim + 1} for a batch (the first tensor of a table, depth first)`,
    );
  }

  /** The previous output (zeros, remembered or set by the user) must fit this input's batch. */
  private checkPrevious(input: Activity, prev: Activity): void {
    const batch = this.batchOf(input);
    const p = flattenActivity(prev)[0];
    if (!p) return;
    const want = [...batch, ...firstShape(this.outputSize)];
    if (p.shape.join() === want.join()) return;
    const pb = p.rank === want.length ? p.shape[0] : undefined;
    const why =
      batch.length === 1 && pb !== undefined && pb !== batch[0]
        ? `: the batch size cannot change within a sequence (the input has batch size ${batch[0]}, the previous ` +
          `output ${pb}); call forget() to start a new one`
        : `: outputSize is ${JSON.stringify(this.outputSize)}, so the module's output must have that size per sample`;
    throw this.fail(
      `input: has shape ${fmtShape(flattenActivity(input)[0]!.shape)}, but the previous output has shape ` +
        `${fmtShape(p.shape)} (expected ${fmtShape(want)})${why}`,
    );
  }

  private fail(reason: string): ModuleError {
    return new ModuleError([this.typeName], reason);
  }

  protected override initialState(input: Activity): Activity {
    const x = flattenActivity(input)[0];
    const batch = this.batchOf(input);
    const params = this.parameters()[0];
    const floatIn = x && x.dtype !== 'int32' ? x.dtype : 'float32';
    const dtype = params[0]?.dtype ?? floatIn;
    const device = x?.device;
    const make = (s: OutputSize): Activity => {
      if (typeof s === 'number') return zeros([...batch, s], { dtype, device });
      if (s.every((d) => typeof d === 'number'))
        return zeros([...batch, ...(s as number[])], { dtype, device });
      return (s as readonly OutputSize[]).map(make);
    };
    return make(this.outputSize);
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}

/** A positive size, a shape of them, or a non-empty table of such (not mixing numbers and tables). */
function checkOutputSize(s: OutputSize): void {
  const ok = (v: unknown): boolean => {
    if (typeof v === 'number') return Number.isInteger(v) && v > 0;
    if (!Array.isArray(v) || v.length === 0) return false;
    if (v.every((d) => typeof d === 'number')) return v.every((d) => Number.isInteger(d) && d > 0);
    return v.every((d) => Array.isArray(d) && ok(d));
  };
  if (!ok(s)) {
    throw new WebrnnError(
      'nn.Recurrence',
      `outputSize must be a positive size, a shape or a table of them (e.g. 10, [10], [[10], [10]]), got ${JSON.stringify(s)}`,
    );
  }
}

/** The shape of the first (depth-first) tensor of a state of size `s`. */
function firstShape(s: OutputSize): number[] {
  if (typeof s === 'number') return [s];
  if (s.every((d) => typeof d === 'number')) return [...(s as number[])];
  return firstShape((s as readonly OutputSize[])[0]!);
}

export type { Tensor };
