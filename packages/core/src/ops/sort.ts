import { withGradMode } from '../autograd/gradMode.js';
import { WebrnnError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import { tidy } from '../scopes.js';
import type { Tensor } from '../tensor.js';
import { arange, zeros } from './create.js';
import { backendOf, checkTensor } from './operands.js';
import { add, affine, eq, gt, lt, maximum, mul } from './elementwise.js';
import { gather } from './indexing.js';
import { sum } from './reduce.js';
import { cast } from './device.js';
import { clone, contiguous, narrow, reshape, transpose, unsqueeze } from './shape.js';

export interface SortOptions {
  /** Largest first (default false). */
  readonly descending?: boolean;
}

export interface SortResult {
  readonly values: Tensor;
  /** int32 positions along the axis: values = gather(x, axis, indices). */
  readonly indices: Tensor;
}

/**
 * Stable sort along an axis (torch.sort(..., stable=True)): equal elements keep their order, NaN sorts as the
 * largest value (last ascending, first descending), -0 equals +0. Composed from ops so that it runs on every
 * backend and the values' gradient is gather's: each element's rank is the number of elements that go before it
 * (an n x n comparison per row, so O(n^2) work and memory along the axis: meant for the modest lengths of rnn
 * programs, not for sorting millions), and the indices come from the ranks.
 */
export function sort(x: Tensor, axis = -1, opts: SortOptions = {}): SortResult {
  checkTensor('sort', x, 'x');
  backendOf('sort', x);
  const a = normalizeAxis('sort', axis, Math.max(1, x.rank));
  if (x.rank === 0) {
    return { values: clone(x), indices: zeros([], { dtype: 'int32', device: x.device }) };
  }
  const indices = withGradMode(false, () => tidy(() => sortIndices(x, a, opts.descending ?? false)));
  return { values: gather(x, a, indices), indices };
}

/**
 * The k largest (or smallest) elements along an axis and their int32 indices (torch.topk), in sorted order; ties
 * keep their order along the axis.
 */
export function topk(x: Tensor, k: number, axis = -1, opts: { readonly largest?: boolean } = {}): SortResult {
  checkTensor('topk', x, 'x');
  const a = normalizeAxis('topk', axis, Math.max(1, x.rank));
  const n = x.rank === 0 ? 1 : x.shape[a]!;
  // A scalar cannot hold zero elements: its only k is 1.
  if (!Number.isInteger(k) || k < (x.rank === 0 ? 1 : 0) || k > n) {
    throw new WebrnnError(
      'topk',
      `k must be an integer in [${x.rank === 0 ? 1 : 0}, ${n}] (the length of axis ${axis}), got ${k}`,
    );
  }
  if (x.rank === 0) return sort(x, a);
  const s = sort(x, a, { descending: opts.largest ?? true });
  const out = { values: narrow(s.values, a, 0, k), indices: narrow(s.indices, a, 0, k) };
  s.values.dispose();
  s.indices.dispose();
  return out;
}

/** The int32 permutation that sorts x along axis a (stable). */
function sortIndices(x: Tensor, a: number, descending: boolean): Tensor {
  const last = x.rank - 1;
  const n = x.shape[a]!;
  const xt = a === last ? x : transpose(x, a, last);
  const int = (t: Tensor) => (t.dtype === 'int32' ? t : cast(t, 'int32'));
  // Element i along the row against element j: i down the second-last axis, j along the last.
  const xi = unsqueeze(xt, -1);
  const xj = unsqueeze(xt, -2);
  let first = int(descending ? gt(xj, xi) : lt(xj, xi));
  let tie = int(eq(xj, xi));
  if (x.dtype !== 'int32') {
    // NaN is the largest value and equals itself: a non-NaN goes first ascending, a NaN first descending.
    const nanI = int(affine(eq(xi, xi), -1, 1));
    const nanJ = int(affine(eq(xj, xj), -1, 1));
    const nanFirst = descending ? mul(nanJ, affine(nanI, -1, 1)) : mul(nanI, affine(nanJ, -1, 1));
    first = maximum(first, nanFirst);
    tie = maximum(tie, mul(nanI, nanJ));
  }
  const pos = arange(n, undefined, 1, { device: x.device });
  const jBeforeI = lt(reshape(pos, [1, n]), reshape(pos, [n, 1]));
  const rank = sum(add(first, mul(tie, jBeforeI)), -1);
  // indices[r] = the i whose rank is r.
  const atRank = eq(unsqueeze(rank, -1), pos);
  const idx = sum(mul(atRank, reshape(pos, [n, 1])), -2);
  return contiguous(a === last ? idx : transpose(idx, a, last));
}
