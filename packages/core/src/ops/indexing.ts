import type { View } from '../backends/backend.js';
import { WebrnnError, fmtShape } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { alloc, backendOf, intIndex, record, sameDType } from './define.js';

/**
 * Index ops. indexSelect (embedding lookup) and gather share one backend kernel: indexSelect passes its 1-D index
 * as a view with stride 0 off `axis`. Their gradients are scatterAdd, which accumulates repeated indices.
 */

/**
 * Indices must lie in [0, n). Checked on the host where the values can be read synchronously (the CPU); on
 * WebGPU the kernels clamp, so a bad index can never read or write outside a buffer.
 */
function checkRange(op: string, index: Tensor, n: number, what: string): void {
  if (!index.backend.canReadSync) return;
  const data = index.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= n) {
      throw new WebrnnError(
        op,
        `index ${v} at position ${i} is out of range for ${what}: expected 0 <= index < ${n}`,
      );
    }
  }
}

/** The 1-D index seen with `outShape`: its values along `axis`, repeated (stride 0) elsewhere. */
function spread(index: Tensor, outShape: readonly number[], axis: number): View {
  const v = index.backendView();
  return { ...v, shape: outShape, strides: outShape.map((_, i) => (i === axis ? index.strides[0]! : 0)) };
}

/** Entries `index` (1-D int32) of `axis` (torch.index_select; LookupTable's forward). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  const backend = backendOf('indexSelect', x, index);
  intIndex('indexSelect', index);
  if (index.rank !== 1) {
    throw new WebrnnError('indexSelect', `index must be 1-D, got shape ${fmtShape(index.shape)}`);
  }
  const a = normalizeAxis('indexSelect', axis, x.rank);
  checkRange('indexSelect', index, x.shape[a]!, `axis ${axis} of shape ${fmtShape(x.shape)}`);
  const shape = x.shape.map((d, i) => (i === a ? index.shape[0]! : d));
  const y = alloc(backend, x.dtype, shape);
  backend.gather(x.backendView(), spread(index, shape, a), a, y.backendView());
  record(
    'indexSelect',
    [x],
    [y],
    ([g], [idx]) => {
      const dx = zeros(x.shape, { dtype: g!.dtype, device: g!.device });
      dx.backend.scatterAdd(dx.backendView(), spread(idx!, g!.shape, a), g!.backendView(), a);
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
  checkRange(op, index, x.shape[a]!, `axis ${axis} of shape ${fmtShape(x.shape)}`);
}

/** out[i][j] = x[i][index[i][j]] for axis 1, and likewise for any axis (torch.gather). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const backend = backendOf('gather', x, index);
  const a = normalizeAxis('gather', axis, x.rank);
  checkAlong('gather', x, a, index, axis);
  const y = alloc(backend, x.dtype, index.shape);
  backend.gather(x.backendView(), index.backendView(), a, y.backendView());
  record(
    'gather',
    [x],
    [y],
    ([g], [idx]) => {
      const dx = zeros(x.shape, { dtype: g!.dtype, device: g!.device });
      dx.backend.scatterAdd(dx.backendView(), idx!.backendView(), g!.backendView(), a);
      return [dx];
    },
    [index],
  );
  return y;
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
  const y = alloc(backend, x.dtype, x.shape);
  backend.copy(x.backendView(), y.backendView());
  const sv = src.backendView();
  backend.scatterAdd(y.backendView(), index.backendView(), { ...sv, shape: index.shape }, a);
  record(
    'scatterAdd',
    [x, src],
    [y],
    ([g], [idx], needs) => {
      let ds: Tensor | null = null;
      if (needs[1]) {
        const part = alloc(g!.backend, g!.dtype, index.shape);
        g!.backend.gather(g!.backendView(), idx!.backendView(), a, part.backendView());
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
  z.backend.copy(part.backendView(), { ...zv, shape: part.shape });
  part.dispose();
  return z;
}
