import { type Activity, flattenActivity, mapActivity } from '../module/activity.js';
import { Container } from '../module/Container.js';
import { type Tensor, WebrnnError, keep, tidy, to } from '../module/deps.js';
import {
  batchRankOf,
  floatOf,
  nonZeroRows,
  keepFromZeroMask,
  applyKeep,
  checkLeading,
  maskIfBatched,
} from '../rnn/masking.js';
import { Module } from '../module/Module.js';

/**
 * Torch's nn.MaskZero: decorates a module so that the output rows of samples whose input row is all zeros are
 * zero (padding). Rows are found in the input's first tensor (depth first): its last `nInputDim` dimensions are
 * one sample, the dimensions before them are batch dimensions ([N], or [T, N] for a whole sequence), as many as
 * the input has beyond `nInputDim` (none: one sample). The later torch/rnn form takes the mask explicitly:
 * `setZeroMask(zeroMask)` with `zeroMask` shaped like those batch dimensions and, as in Torch, non-zero where a
 * row is padding; it replaces the zero-row test until `setZeroMask(null)`.
 *
 * Masked rows get zero gradients: the decorated module's input rows are zeroed on the tape too (torch/rnn's
 * `maskinput`, which leaves zero rows unchanged), so gradInput is zero there even for modules that mix rows.
 */
export class MaskZero extends Container {
  protected zeroMask: Tensor | null = null;

  constructor(
    module: Module,
    readonly nInputDim?: number,
  ) {
    super();
    if (!(module instanceof Module)) {
      throw new WebrnnError('nn.MaskZero', `expected a module to decorate, got ${String(module)}`);
    }
    if (nInputDim !== undefined && (!Number.isInteger(nInputDim) || nInputDim < 0)) {
      throw new WebrnnError('nn.MaskZero', `nInputDim must be a non-negative integer, got ${nInputDim}`);
    }
    this.add(module);
  }

  get module(): Module {
    return this.modules[0]!;
  }

  /** Mask rows explicitly: non-zero entries of `zeroMask` are padding (Torch's convention); null or false: off. */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    this.zeroMask?.dispose();
    this.zeroMask = zeroMask ? keep(zeroMask.handle()) : null;
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const x = flattenActivity(input)[0];
    if (!x) throw new WebrnnError('input', 'is an empty table; expected a tensor or a table of tensors');
    const keepRows = this.zeroMask
      ? keepFromZeroMask(this.zeroMask, floatOf(x), x.device)
      : nonZeroRows(x, this.batchRank(x), floatOf(x));
    try {
      if (this.zeroMask) checkLeading(x, keepRows, 'input', this.zeroMask);
      const masked = tidy(() => mapActivity(input, (t) => maskIfBatched(t, keepRows)));
      const out = this.forwardChild(0, masked);
      return tidy(() =>
        mapActivity(out, (t) => {
          checkLeading(t, keepRows, 'output', this.zeroMask);
          return t.dtype === 'int32' ? t : applyKeep(t, keepRows);
        }),
      );
    } finally {
      keepRows.dispose();
    }
  }

  private batchRank(x: Tensor): number {
    return batchRankOf(x, this.nInputDim);
  }

  override clearState(): this {
    this.setZeroMask(null);
    return super.clearState();
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}
