import { type Activity, flattenActivity, mapActivity } from '../module/activity.js';
import {
  type Tensor,
  WebrnnError,
  fmtShape,
  indexSelect,
  keep,
  reshape,
  tensor,
  tidy,
  zeros,
} from '../module/deps.js';
import { batchRankOf, floatOf, nonZeroRows } from '../rnn/masking.js';
import type { Criterion, Target } from './Criterion.js';
import { DecoratorCriterion } from './DecoratorCriterion.js';

/**
 * Torch's nn.MaskZeroCriterion: the decorated criterion applied to the rows that are not padding, so the loss (and
 * its gradient) equals the criterion on the kept rows alone; masked rows get zero gradient. When every row is
 * masked the loss is 0 and the gradient zero (no NaN from an average over nothing).
 *
 * Rows are found in the input's first tensor (depth first): its last `nInputDim` dimensions are one sample and
 * the dimensions before them are batch dimensions ([N], or [T, N] which is flattened to T*N rows, the targets
 * alike); a row of all zeros is padding. `setZeroMask(zeroMask)` gives the mask explicitly instead: shaped like the
 * batch dimensions, non-zero where a row is padding (Torch's convention). Selecting the rows reads the mask on the
 * host: on a device that cannot be read synchronously (WebGPU), give an explicit mask on the CPU.
 */
export class MaskZeroCriterion extends DecoratorCriterion {
  private zeroMask: Tensor | null = null;

  constructor(
    criterion: Criterion,
    readonly nInputDim?: number,
  ) {
    super('nn.MaskZeroCriterion', criterion);
    if (nInputDim !== undefined && (!Number.isInteger(nInputDim) || nInputDim < 0)) {
      throw new WebrnnError(
        'nn.MaskZeroCriterion',
        `nInputDim must be a non-negative integer, got ${nInputDim}`,
      );
    }
  }

  /** Mask rows explicitly: non-zero entries are padding; null or false: back to finding zero rows. */
  setZeroMask(zeroMask: Tensor | null | false): this {
    this.zeroMask?.dispose();
    this.zeroMask = zeroMask ? keep(zeroMask.handle()) : null;
    return this;
  }

  override updateOutput(input: Activity, target: Target): Tensor {
    const x = flattenActivity(input)[0];
    if (!x) throw new WebrnnError('input', 'is an empty table; expected a tensor or a table of tensors');
    return tidy(() => {
      const batchRank = this.batchRank(x);
      const lead = x.shape.slice(0, batchRank);
      const flags = this.keptRows(x, batchRank);
      const kept: number[] = [];
      flags.forEach((k, i) => k && kept.push(i));
      const none = () => zeros([], { dtype: floatOf(x), device: x.device });
      if (batchRank === 0) return kept.length > 0 ? this.criterion.updateOutput(input, target) : none();
      if (kept.length === 0) return none();
      if (batchRank === 1 && kept.length === flags.length) return this.criterion.updateOutput(input, target);
      if (typeof target === 'number') {
        throw new WebrnnError('target', `is a number, but the input has a batch of rows ${fmtShape(lead)}`);
      }
      const rows = flags.length;
      const idx = tensor(kept, { dtype: 'int32', device: x.device });
      const pick = (what: string) => (t: Tensor) => {
        if (t.rank < batchRank || t.shape.slice(0, batchRank).join() !== lead.join()) {
          throw new WebrnnError(
            what,
            `has shape ${fmtShape(t.shape)}, expected leading dimensions ${fmtShape(lead)} like the input's rows`,
          );
        }
        return indexSelect(reshape(t, [rows, ...t.shape.slice(batchRank)]), 0, idx);
      };
      return this.criterion.updateOutput(
        mapActivity(input, pick('input')),
        mapActivity(target, pick('target')),
      );
    });
  }

  private batchRank(x: Tensor): number {
    if (this.zeroMask) {
      const m = this.zeroMask;
      if (x.rank < m.rank || x.shape.slice(0, m.rank).join() !== m.shape.join()) {
        throw new WebrnnError(
          'zeroMask',
          `has shape ${fmtShape(m.shape)}, but the input has shape ${fmtShape(x.shape)}: the mask must have the ` +
            "shape of the input's leading (batch) dimensions",
        );
      }
      return m.rank;
    }
    return batchRankOf(x, this.nInputDim);
  }

  /** Whether each row (flattened batch dimensions) is kept, read on the host. */
  private keptRows(x: Tensor, batchRank: number): boolean[] {
    const m = this.zeroMask;
    const src = m ?? x;
    if (!src.backend.canReadSync) {
      throw new WebrnnError(
        m ? 'zeroMask' : 'input',
        `is on ${src.device}, which cannot be read synchronously: give the mask on the CPU with setZeroMask`,
      );
    }
    if (m) return Array.from(m.dataSync(), (v) => v === 0);
    const k = nonZeroRows(x, batchRank, floatOf(x));
    const flags = Array.from(k.dataSync(), (v) => v !== 0);
    k.dispose();
    return flags;
  }

  override dispose(): void {
    this.setZeroMask(null);
    super.dispose();
  }
}
