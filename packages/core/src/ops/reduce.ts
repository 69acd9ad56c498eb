import { WebrnnError, fmtShape } from '../errors.js';
import { normalizeAxes, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, checkTensor, record } from './operands.js';
import { affine, div, eq, mul } from './elementwise.js';
import { expand, reshape } from './shape.js';
import { keptShape, rawReduce } from './sumTo.js';

/** Reductions over axes (all axes when none are given), with keepdim as in PyTorch. */

export interface ReduceOptions {
  readonly keepdim?: boolean;
}

type Axes = number | readonly number[] | undefined;

function finalShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function finish(kept: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(kept.shape, shape)) return kept;
  const r = reshape(kept, shape);
  kept.dispose();
  return r;
}

export function sum(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  checkTensor('sum', x, 'x');
  const ax = normalizeAxes('sum', axes, x.rank);
  const kept = rawReduce('sum', x, ax);
  record('sum', [x], [kept], ([g]) => [expand(g!, x.shape)]);
  return finish(kept, finalShape(x.shape, ax, opts.keepdim ?? false));
}

export function mean(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  checkTensor('mean', x, 'x');
  const ax = normalizeAxes('mean', axes, x.rank);
  if (x.dtype === 'int32')
    throw new WebrnnError('mean', 'input has dtype int32, expected float32 or float64');
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  const s = sum(x, ax, opts);
  // Stryker disable next-line ConditionalExpression: equivalent for `false`: the sum of an empty axis is 0 and 0 * (1/0) is NaN too; `true` fails the tests (checked by hand).
  const m = affine(s, n === 0 ? Number.NaN : 1 / n, 0);
  s.dispose();
  return m;
}

/** max/min over axes; the gradient is shared equally among tied extremes (PyTorch's amax/amin). */
function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  checkTensor(op, x, 'x');
  const ax = normalizeAxes(op, axes, x.rank);
  if (ax.some((a) => x.shape[a] === 0)) {
    throw new WebrnnError(op, `cannot reduce an empty axis of a tensor of shape ${fmtShape(x.shape)}`);
  }
  const kept = rawReduce(op, x, ax);
  record(
    op,
    [x],
    [kept],
    ([g], [xs, ys]) => {
      const mask = eq(xs!, expand(ys!, xs!.shape));
      const count = rawReduce('sum', mask, ax);
      return [mul(mask, expand(div(g!, count), xs!.shape))];
    },
    [x, kept],
  );
  return finish(kept, finalShape(x.shape, ax, opts.keepdim ?? false));
}

export const max = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}) => extreme('max', x, axes, opts);
export const min = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}) => extreme('min', x, axes, opts);

/** Index of the first maximum along one axis (int32); the whole tensor flattened when axis is omitted. */
export function argmax(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  return argExtreme('argmax', x, axis, opts);
}

export function argmin(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  return argExtreme('argmin', x, axis, opts);
}

function argExtreme(
  op: 'argmax' | 'argmin',
  x: Tensor,
  axis: number | undefined,
  opts: ReduceOptions,
): Tensor {
  checkTensor(op, x, 'x');
  if (axis === undefined) {
    // Over the flattened tensor; keepdim keeps every axis, as size 1 (PyTorch).
    const flat = reshape(x, [x.size]);
    const r = argExtreme(op, flat, 0, {});
    flat.dispose();
    if (!opts.keepdim) return r;
    return finish(
      r,
      x.shape.map(() => 1),
    );
  }
  const a = normalizeAxis(op, axis, x.rank);
  if (x.shape[a] === 0)
    throw new WebrnnError(op, `cannot reduce an empty axis of shape ${fmtShape(x.shape)}`);
  return finish(rawReduce(op, x, [a]), finalShape(x.shape, [a], opts.keepdim ?? false));
}

export { sumTo } from './sumTo.js';
