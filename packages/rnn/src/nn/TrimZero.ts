import { type Activity, flattenActivity, mapActivity } from '../module/activity.js';
import { type Tensor, WebrnnError, cat, fmtShape, indexSelect, tensor, tidy, zeros } from '../module/deps.js';
import { MaskZero } from './MaskZero.js';
import { batchRankOf, floatOf, nonZeroRows } from '../rnn/masking.js';
import type { Module } from '../module/Module.js';
import { stateHolders } from '../rnn/state.js';

/**
 * Element-research's nn.TrimZero: MaskZero's result, computed on the rows that are not padding only. The rows of
 * a batch [N, ...] (one batch dimension, as Torch's batch mode) whose input row is all zeros (or which an explicit
 * `setZeroMask` marks) are taken out before the decorated module runs; its output rows are put back in place and
 * the padding rows are zero. Gradients follow the same path: padding rows get zero gradient and add nothing to
 * the parameters' gradients. For modules that treat rows independently this equals MaskZero exactly; a module
 * that mixes rows (or draws random numbers per row, as Dropout) sees only the real rows, as in Torch.
 *
 * Trimming needs the mask on the host and a batch whose row count the module may change, so where those do not
 * hold it runs as MaskZero (same result, no saving): on a device that cannot be read synchronously (WebGPU; give
 * the mask on the CPU with setZeroMask to trim there too), with several batch dimensions ([T, N]), around a
 * module with a recurrent state (its state keeps every row; the recurrent modules' `trimZero()` masks), and when
 * no row or every row is padding.
 */
export class TrimZero extends MaskZero {
  override updateOutput(input: Activity): Activity {
    const kept = this.keptRows(input);
    if (!kept) return super.updateOutput(input);
    const [rows, keep] = kept;
    const x0 = flattenActivity(input)[0]!;
    const idx = tensor(keep, { dtype: 'int32', device: x0.device });
    // Row i of the output reads row pos[i] of [module output; one zero row].
    let r = 0;
    const pos = tensor(
      Array.from({ length: rows }, (_, i) => (keep[r] === i ? r++ : keep.length)),
      { dtype: 'int32', device: x0.device },
    );
    try {
      const trimmed = tidy(() =>
        mapActivity(input, (t) => (t.rank > 0 && t.shape[0] === rows ? indexSelect(t, 0, idx) : t)),
      );
      const out = this.forwardChild(0, trimmed);
      return tidy(() =>
        mapActivity(out, (t) => {
          if (t.rank === 0 || t.shape[0] !== keep.length) {
            throw new WebrnnError(
              'output',
              `has shape ${fmtShape(t.shape)} for ${keep.length} kept row(s), expected [${keep.length}, ...]: ` +
                'TrimZero needs a module that keeps the batch dimension first',
            );
          }
          const pad = zeros([1, ...t.shape.slice(1)], { dtype: t.dtype, device: t.device });
          return indexSelect(cat([t, pad], 0), 0, pos);
        }),
      );
    } finally {
      idx.dispose();
      pos.dispose();
    }
  }

  /** [rows, the kept rows' indices] when this forward trims; null to run as MaskZero. */
  private keptRows(input: Activity): [number, number[]] | null {
    const x = flattenActivity(input)[0];
    if (!x || hasState(this.module)) return null;
    const m = this.zeroMask;
    if (m ? m.rank !== 1 || !m.backend.canReadSync : !x.backend.canReadSync) return null;
    if (!m && (this.nInputDim === undefined || batchRankOf(x, this.nInputDim) !== 1)) return null;
    if (m && (x.rank === 0 || x.shape[0] !== m.shape[0])) return null; // MaskZero names the mismatch
    let flags: boolean[];
    if (m) flags = Array.from(m.dataSync(), (v) => v === 0);
    else {
      const k = nonZeroRows(x, 1, floatOf(x));
      flags = Array.from(k.dataSync(), (v) => v !== 0);
      k.dispose();
    }
    const keep: number[] = [];
    flags.forEach((f, i) => f && keep.push(i));
    return keep.length === 0 || keep.length === flags.length ? null : [flags.length, keep];
  }
}

function hasState(m: Module): boolean {
  return stateHolders(m).length > 0;
}
