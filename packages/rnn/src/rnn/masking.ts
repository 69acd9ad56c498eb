import { type Activity, describeActivity, mapActivity } from '../module/activity.js';
import {
  type DType,
  type DeviceName,
  type Tensor,
  WebrnnError,
  abs,
  affine,
  cast,
  eq,
  fmtShape,
  keep,
  noGrad,
  reshape,
  select,
  sum,
  tidy,
  to,
  where,
} from '../module/deps.js';

/**
 * Masks of padded rows, shared by MaskZero, TrimZero, LookupTableMaskZero, MaskZeroCriterion, VariableLength and the
 * recurrent modules (step-wise and whole-sequence): which rows are real, from zero input rows or an explicit zeroMask
 * (non-zero where a row is padding, Torch's convention), and how a masked row is zeroed.
 */
/** The float dtype a mask for `x` takes (float32 for index inputs). */
/** How many leading (batch) dimensions `x` has when a sample has `nInputDim` dimensions; errors name both. */
export function batchRankOf(x: Tensor, nInputDim: number | undefined): number {
  if (nInputDim === undefined) {
    throw new WebrnnError(
      'nInputDim',
      'was not given and no zeroMask is set: give nInputDim (dimensions per sample) or call setZeroMask',
    );
  }
  if (x.rank < nInputDim) {
    throw new WebrnnError(
      'input',
      `has shape ${fmtShape(x.shape)} (${x.rank} dimension(s)), but nInputDim is ${nInputDim}: expected ` +
        `${nInputDim} dimension(s) per sample, after any batch dimensions`,
    );
  }
  return x.rank - nInputDim;
}

export function floatOf(x: Tensor): DType {
  return x.dtype === 'int32' ? 'float32' : x.dtype;
}

/**
 * 1 where a row of `x` has a non-zero element, 0 where the row is all zeros (NaN rows count as non-zero, so they
 * show): rows are the trailing dims after `batchRank` leading ones; the result has the leading dims' shape.
 */
export function nonZeroRows(x: Tensor, batchRank: number, dtype: DType): Tensor {
  return noGrad(() =>
    tidy(() => {
      const xf = cast(x, dtype);
      const a = abs(xf);
      const axes = Array.from({ length: x.rank - batchRank }, (_, i) => batchRank + i);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: sum over no axes is the tensor itself (the line's other replacements were killed before marking).
      const s = axes.length > 0 ? sum(a, axes) : a;
      return affine(eq(s, 0), -1, 1);
    }),
  );
}

/** 1 where an explicit zeroMask is 0 (a real row), 0 where it is non-zero (padding), in `dtype` on `device`. */
export function keepFromZeroMask(zeroMask: Tensor, dtype: DType, device: DeviceName): Tensor {
  return noGrad(() =>
    tidy(() => {
      // Stryker disable next-line ConditionalExpression: `to` the same device is a copy with the same values (the line's other replacements were killed before marking).
      const m = zeroMask.device === device ? zeroMask.detach() : to(zeroMask.detach(), device);
      return cast(eq(m, 0), dtype);
    }),
  );
}

/** `t` with masked rows set to exactly 0 (so are their gradients); `keepRows`' shape leads `t`'s shape. */
export function applyKeep(t: Tensor, keepRows: Tensor): Tensor {
  return tidy(() => {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: `where` takes a condition of any dtype, the cast only matches it (the line's other replacements were killed before marking).
    const k = keepRows.dtype === t.dtype ? keepRows : cast(keepRows, t.dtype);
    const shaped = reshape(k, [...k.shape, ...new Array<number>(t.rank - k.rank).fill(1)]);
    return where(shaped, t, 0);
  });
}

/** Throw unless `t`'s leading dims are `keepRows`' shape. */
export function checkLeading(t: Tensor, keepRows: Tensor, what: string, zeroMask: Tensor | null): void {
  const lead = t.shape.slice(0, keepRows.rank);
  if (t.rank >= keepRows.rank && lead.join() === keepRows.shape.join()) return;
  const source = zeroMask
    ? `the zeroMask's shape ${fmtShape(zeroMask.shape)}`
    : `${fmtShape(keepRows.shape)}`;
  throw new WebrnnError(
    what,
    `has shape ${describeActivity(t)}, but its leading dimensions must be ${source} (one mask entry per row)`,
  );
}

export function maskIfBatched(t: Tensor, keepRows: Tensor): Tensor {
  const lead = t.shape.slice(0, keepRows.rank);
  if (t.dtype === 'int32' || t.rank < keepRows.rank || lead.join() !== keepRows.shape.join()) return t;
  return applyKeep(t, keepRows);
}

/** A recurrent step's keep (1/0 per sample) from zero input rows; `nInputDim` as in AbstractRecurrent.maskZero. */
export function stepKeepFromInput(x: Tensor, nInputDim: number | undefined): Tensor {
  let batchRank = x.rank >= 2 ? 1 : 0;
  if (nInputDim !== undefined) {
    if (x.rank !== nInputDim && x.rank !== nInputDim + 1) {
      throw new WebrnnError(
        'input',
        `has shape ${fmtShape(x.shape)}, but maskZero's nInputDim is ${nInputDim}: expected ${nInputDim} ` +
          `dimension(s) per sample, or ${nInputDim + 1} for a batch`,
      );
    }
    batchRank = x.rank - nInputDim;
  }
  return nonZeroRows(x, batchRank, floatOf(x));
}

/** A recurrent step's keep from row `step` of an explicit zeroMask [T, N] (its batch must be x's). */
export function stepKeepFromMask(x: Tensor, zeroMask: Tensor, step: number): Tensor {
  const [T, N] = zeroMask.shape as [number, number];
  if (step >= T) {
    throw new WebrnnError(
      'zeroMask',
      `has shape ${fmtShape(zeroMask.shape)} (${T} steps), but this is step ${step + 1} since it was set or since ` +
        'forget(): the mask must cover every step of the sequence',
    );
  }
  if (x.rank === 0 || x.shape[0] !== N) {
    throw new WebrnnError(
      'zeroMask',
      `has shape ${fmtShape(zeroMask.shape)} ([T, N]), but the input of step ${step} has shape ` +
        `${fmtShape(x.shape)}: expected batch size ${N} (its first dimension)`,
    );
  }
  const row = select(zeroMask, 0, step);
  const k = keepFromZeroMask(row, floatOf(x), x.device);
  row.dispose();
  return k;
}

/**
 * Mask a recurrent step: the output and the state, each tensor once (a state entry that is the output stays the
 * output), so that a masked sample's output and next state are zero.
 */
export function maskStep(
  keepRows: Tensor,
  output: Activity,
  state: Activity | null,
  who: string,
): { output: Activity; state: Activity | null } {
  return tidy(() => {
    const done = new Map<Tensor, Tensor>();
    const m = (what: string) => (t: Tensor) => {
      let r = done.get(t);
      if (!r) {
        if (keepRows.rank > 0 && (t.rank === 0 || t.shape[0] !== keepRows.shape[0])) {
          throw new WebrnnError(
            who,
            `the ${what} has shape ${fmtShape(t.shape)}, but the mask has ${keepRows.shape[0]} row(s): masking needs ` +
              'batched steps ([N, ...])',
          );
        }
        r = t.dtype === 'int32' ? t : applyKeep(t, keepRows);
        done.set(t, r);
      }
      return r;
    };
    return { output: mapActivity(output, m('output')), state: state && mapActivity(state, m('state')) };
  });
}
