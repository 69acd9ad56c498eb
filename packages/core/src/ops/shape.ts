import { WebrnnError, fmtShape } from '../errors.js';
import { contiguousStrides, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { alloc, backendOf, broadcastView, checkTensor, record } from './operands.js';
import { copyInPlace } from './inPlace.js';
import { sumTo } from './sumTo.js';

/**
 * Shape ops. Most are views: a new shape/strides/offset over the same storage, no copy. `reshape` copies only
 * when the strides make a view impossible; `contiguous` and `clone` always give their own dense storage.
 */

function viewOf(
  op: string,
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  checkTensor(op, x, 'x');
  return new Tensor(x.storage.retain(), shape, strides, offset);
}

/** Resolve one -1 entry and check the element count. */
function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (
    out.some((d, i) => !Number.isInteger(d) || (d < 0 && i !== unknown)) ||
    out.lastIndexOf(-1) !== unknown
  ) {
    throw new WebrnnError(
      op,
      `invalid shape ${fmtShape(shape)} (at most one -1, other entries non-negative)`,
    );
  }
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new WebrnnError(
        op,
        `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`,
      );
    }
    out[unknown] = x.size / known;
  }
  if (sizeOf(out) !== x.size) {
    throw new WebrnnError(
      op,
      `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`,
    );
  }
  return out;
}

/**
 * Strides that view x's memory as `shape`, or null when x's strides make that impossible. Walks x's dims from
 * the right in chunks that are contiguous in themselves; each chunk must map onto whole dims of `shape`.
 */
function viewStrides(x: Tensor, shape: readonly number[]): number[] | null {
  if (x.isContiguous || x.size === 0) return contiguousStrides(shape);
  const out = new Array<number>(shape.length).fill(1);
  let j = shape.length - 1;
  let base = x.strides[x.rank - 1] ?? 1;
  let xn = 1;
  let vn = 1;
  for (let i = x.rank - 1; i >= 0; i--) {
    xn *= x.shape[i]!;
    const chunkEnds = i === 0 || (x.shape[i - 1] !== 1 && x.strides[i - 1] !== xn * base);
    if (!chunkEnds) continue;
    while (j >= 0 && (vn < xn || shape[j] === 1)) {
      out[j] = vn * base;
      vn *= shape[j]!;
      j--;
    }
    if (vn !== xn) return null;
    if (i > 0) {
      base = x.strides[i - 1]!;
      xn = 1;
      vn = 1;
    }
  }
  return j === -1 ? out : null;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', x, 'x');
  const target = resolveShape('reshape', x, shape);
  const strides = viewStrides(x, target);
  const y = strides ? viewOf('reshape', x, target, strides, x.offset) : reshapeCopy(x, target);
  record('reshape', [x], [y], ([g]) => [reshape(g!, x.shape)]);
  return y;
}

function reshapeCopy(x: Tensor, target: readonly number[]): Tensor {
  const c = contiguousCopy('reshape', x);
  const y = new Tensor(c.storage.retain(), target);
  c.dispose();
  return y;
}

/** Like reshape, but refuses to copy (PyTorch's view). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('view', x, 'x');
  const target = resolveShape('view', x, shape);
  const strides = viewStrides(x, target);
  if (!strides) {
    throw new WebrnnError(
      'view',
      `a tensor of shape ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} cannot be viewed as ${fmtShape(target)}; use reshape()`,
    );
  }
  const y = viewOf('view', x, target, strides, x.offset);
  record('view', [x], [y], ([g]) => [reshape(g!, x.shape)]);
  return y;
}

export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  checkTensor('flatten', x, 'x');
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.rank);
  const e = normalizeAxis('flatten', endAxis, x.rank);
  if (s > e) {
    throw new WebrnnError(
      'flatten',
      `start axis ${startAxis} comes after end axis ${endAxis} for a tensor of shape ${fmtShape(x.shape)}`,
    );
  }
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  checkTensor('squeeze', x, 'x');
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', x, 'x');
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function permute(x: Tensor, order: readonly number[]): Tensor {
  checkTensor('permute', x, 'x');
  const axes = order.map((a) => normalizeAxis('permute', a, x.rank));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new WebrnnError('permute', `order [${order.join(', ')}] is not a permutation of ${x.rank} axes`);
  }
  const y = viewOf(
    'permute',
    x,
    axes.map((a) => x.shape[a]!),
    axes.map((a) => x.strides[a]!),
    x.offset,
  );
  const inverse = new Array<number>(x.rank);
  axes.forEach((a, i) => {
    inverse[a] = i;
  });
  record('permute', [x], [y], ([g]) => [permute(g!, inverse)]);
  return y;
}

export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  checkTensor('transpose', x, 'x');
  if (x.rank < 2 && axis0 === -2 && axis1 === -1) return reshape(x, x.shape);
  const a = normalizeAxis('transpose', axis0, x.rank);
  const b = normalizeAxis('transpose', axis1, x.rank);
  const order = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, order);
}

/** Broadcast to `shape` without copying (stride 0 on stretched dims); -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('expand', x, 'x');
  const lead = shape.length - x.rank;
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < -1 || (d === -1 && i < lead)) {
      throw new WebrnnError(
        'expand',
        `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}: sizes must be non-negative integers, ` +
          'or -1 to keep an existing dim (not in a new leading dim)',
      );
    }
  });
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  if (shapesEqual(target, x.shape)) return reshape(x, x.shape);
  const v = broadcastView(x, target, 'expand');
  const y = viewOf('expand', x, target, v.strides, x.offset);
  record('expand', [x], [y], ([g]) => [sumTo(g!, x.shape)]);
  return y;
}

/** `length` entries of `axis` from `start` (a view; Torch's narrow, with 0-based start). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  checkTensor('narrow', x, 'x');
  const a = normalizeAxis('narrow', axis, x.rank);
  const n = x.shape[a]!;
  const given = start;
  if (start < 0) start += n;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > n
  ) {
    throw new WebrnnError(
      'narrow',
      `start ${given} and length ${length} do not fit in axis ${axis} of size ${n} (shape ${fmtShape(x.shape)})`,
    );
  }
  const shape = x.shape.map((d, i) => (i === a ? length : d));
  const y = viewOf('narrow', x, shape, x.strides, x.offset + start * x.strides[a]!);
  record('narrow', [x], [y], ([g]) => [padInto(g!, x.shape, a, start)]);
  return y;
}

/** Python-style slice along one axis: [start, end) with negative indices from the end, clamped. */
export function slice(x: Tensor, axis: number, start = 0, end?: number): Tensor {
  checkTensor('slice', x, 'x');
  const a = normalizeAxis('slice', axis, x.rank);
  const n = x.shape[a]!;
  const norm = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = norm(start);
  const e = end === undefined ? n : norm(end);
  return narrow(x, a, s, Math.max(0, e - s));
}

/** Entry `index` of `axis`, removing that axis (a view; negative index counts from the end). */
export function select(x: Tensor, axis: number, index: number): Tensor {
  checkTensor('select', x, 'x');
  const a = normalizeAxis('select', axis, x.rank);
  const n = x.shape[a]!;
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(index) || i < 0 || i >= n) {
    throw new WebrnnError(
      'select',
      `index ${index} is out of range for axis ${axis} of size ${n} (shape ${fmtShape(x.shape)})`,
    );
  }
  const shape = x.shape.filter((_, k) => k !== a);
  const strides = x.strides.filter((_, k) => k !== a);
  const y = viewOf('select', x, shape, strides, x.offset + i * x.strides[a]!);
  record('select', [x], [y], ([g]) => [padInto(unsqueeze(g!, a), x.shape, a, i)]);
  return y;
}

/** zeros of `shape` with `g` written at offset `start` of `axis`: the gradient of narrow and select. */
function padInto(g: Tensor, shape: readonly number[], axis: number, start: number): Tensor {
  const z = zeros(shape, { dtype: g.dtype, device: g.device });
  const window = narrow(z, axis, start, g.shape[axis]!);
  copyInPlace(window, g);
  window.dispose();
  return z;
}

function contiguousCopy(op: string, x: Tensor): Tensor {
  const backend = backendOf(op, x);
  const y = alloc(backend, x.dtype, x.shape);
  backend.copy({ x: x.backendView(op), out: y.backendView() });
  return y;
}

/** x itself (another handle) when already dense, else a dense copy. */
export function contiguous(x: Tensor): Tensor {
  checkTensor('contiguous', x, 'x');
  if (x.isContiguous) return reshape(x, x.shape);
  const y = contiguousCopy('contiguous', x);
  record('contiguous', [x], [y], ([g]) => [g!]);
  return y;
}

/** A dense copy with its own storage. */
export function clone(x: Tensor): Tensor {
  const y = contiguousCopy('clone', x);
  record('clone', [x], [y], ([g]) => [g!]);
  return y;
}
