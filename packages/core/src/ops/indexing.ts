import type { View } from '../backends/backend.js';
import { type IndexCheck, WebrnnError, fmtShape } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { alloc, backendOf, intIndex, record, sameDType } from './operands.js';

/**
 * Index ops. indexSelect (embedding lookup) and gather share one backend kernel: indexSelect passes its 1-D index
 * as a view with stride 0 off `axis`. Their gradients are scatterAdd, which accumulates repeated indices.
 */

/**
 * Indices must lie in [0, n). The backends check them (the CPU at the call, WebGPU's kernels at the next read,
 * through device-side errors), with messages made from one description: who raises, about what. Callers that give
 * the indices another meaning (a loss's targets, a LookupTable's input) describe them with their own `report`.
 */
export type IndexReport = Omit<IndexCheck, 'positionAlongAxis'>;

const along = (op: string, x: Tensor, axis: number): IndexReport => ({
  op,
  noun: 'index',
  range: `axis ${axis} of shape ${fmtShape(x.shape)}`,
});

/** Run a backend call that may throw on a bad index, freeing the fresh output `y` if it does. */
function into(y: Tensor, run: () => void): void {
  try {
    run();
  } catch (e) {
    y.dispose();
    throw e;
  }
}

/** The 1-D index seen with `outShape`: its values along `axis`, repeated (stride 0) elsewhere. */
function spread(index: Tensor, outShape: readonly number[], axis: number): View {
  const v = index.backendView();
  return { ...v, shape: outShape, strides: outShape.map((_, i) => (i === axis ? index.strides[0]! : 0)) };
}

/**
 * Entries `index` (1-D int32) of `axis` (torch.index_select; LookupTable's forward). A bad index is reported by
 * its position in `index`, as `report` says (by default as indexSelect's).
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor, report?: IndexReport): Tensor {
  backendOf('indexSelect', x, index);
  intIndex('indexSelect', index);
  if (index.rank !== 1) {
    throw new WebrnnError('indexSelect', `index must be 1-D, got shape ${fmtShape(index.shape)}`);
  }
  const a = normalizeAxis('indexSelect', axis, x.rank);
  const shape = x.shape.map((d, i) => (i === a ? index.shape[0]! : d));
  // The kernel walks the index spread over `shape`; a position is the one along `axis`.
  const check = { ...(report ?? along('indexSelect', x, axis)), positionAlongAxis: true };
  return gatherRecorded('indexSelect', x, a, index, shape, check, (i) => spread(i, shape, a));
}

/**
 * The gather kernel from x into a fresh tensor of `shape`, with the index seen through `indexView` (a view of
 * `shape`), recorded with its gradient: the output gradient scatter-added into zeros of x's shape.
 */
function gatherRecorded(
  op: string,
  x: Tensor,
  a: number,
  index: Tensor,
  shape: readonly number[],
  check: IndexCheck,
  indexView: (index: Tensor) => View,
): Tensor {
  const y = alloc(x.backend, x.dtype, shape);
  into(y, () =>
    x.backend.gather({ x: x.backendView(), index: indexView(index), out: y.backendView() }, a, check),
  );
  record(
    op,
    [x],
    [y],
    ([g], [idx]) => {
      const dx = zeros(x.shape, { dtype: g!.dtype, device: g!.device });
      dx.backend.scatterAdd(
        { out: dx.backendView(), index: indexView(idx!), src: g!.backendView() },
        a,
        check,
      );
      return [dx];
    },
    [index],
  );
  return y;
}

function checkAlong(op: string, x: Tensor, a: number, index: Tensor, axis: number): void {
  intIndex(op, index);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== a && d > x.shape[i]!)) {
    throw new WebrnnError(
      op,
      `index of shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)}: same rank, and no larger off axis ${axis}`,
    );
  }
}

/**
 * out[i][j] = x[i][index[i][j]] for axis 1, and likewise for any axis (torch.gather). A bad index is reported by
 * its flat position in `index`, as `report` says (by default as gather's).
 */
export function gather(x: Tensor, axis: number, index: Tensor, report?: IndexReport): Tensor {
  backendOf('gather', x, index);
  const a = normalizeAxis('gather', axis, x.rank);
  checkAlong('gather', x, a, index, axis);
  const check = report ?? along('gather', x, axis);
  return gatherRecorded('gather', x, a, index, index.shape, check, (i) => i.backendView());
}

/** A copy of x with src added at the positions `index` names along `axis` (torch.scatter_add, out of place). */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const backend = backendOf('scatterAdd', x, index, src);
  sameDType('scatterAdd', x, src);
  const a = normalizeAxis('scatterAdd', axis, x.rank);
  checkAlong('scatterAdd', x, a, index, axis);
  if (src.rank !== index.rank || index.shape.some((d, i) => d > src.shape[i]!)) {
    throw new WebrnnError(
      'scatterAdd',
      `src of shape ${fmtShape(src.shape)} must cover index of shape ${fmtShape(index.shape)}`,
    );
  }
  const check = along('scatterAdd', x, axis);
  const y = alloc(backend, x.dtype, x.shape);
  backend.copy({ x: x.backendView(), out: y.backendView() });
  const sv = src.backendView();
  into(y, () =>
    backend.scatterAdd(
      { out: y.backendView(), index: index.backendView(), src: { ...sv, shape: index.shape } },
      a,
      check,
    ),
  );
  record(
    'scatterAdd',
    [x, src],
    [y],
    ([g], [idx], needs) => {
      let ds: Tensor | null = null;
      if (needs[1]) {
        const part = alloc(g!.backend, g!.dtype, index.shape);
        g!.backend.gather(
          { x: g!.backendView(), index: idx!.backendView(), out: part.backendView() },
          a,
          check,
        );
        ds = part.shape.join() === src.shape.join() ? part : padTo(part, src.shape);
      }
      return [needs[0] ? g! : null, ds];
    },
    [index],
  );
  return y;
}

/** `part` placed at the origin of zeros of `shape` (src may be larger than index). */
function padTo(part: Tensor, shape: readonly number[]): Tensor {
  const z = zeros(shape, { dtype: part.dtype, device: part.device });
  const zv = z.backendView();
  z.backend.copy({ x: part.backendView(), out: { ...zv, shape: part.shape } });
  part.dispose();
  return z;
}
