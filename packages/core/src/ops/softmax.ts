import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, floatOnly, record } from './operands.js';
import { exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { contiguous, reshape, transpose } from './shape.js';

/**
 * Softmax and log-softmax along an axis, numerically stable (the kernels subtract the row max). The kernels work
 * on the last axis of dense rows; another axis is moved there and back.
 */
function softmaxWith(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  const backend = backendOf(op, x);
  floatOnly(op, x);
  if (x.rank === 0) {
    const one = reshape(x, [1]);
    const r = softmaxWith(op, one, 0);
    const out = reshape(r, []);
    one.dispose();
    r.dispose();
    return out;
  }
  const a = normalizeAxis(op, axis, x.rank);
  const last = x.rank - 1;
  const moved = a === last ? x : transpose(x, a, last);
  const dense = contiguous(moved);
  const y = alloc(backend, x.dtype, dense.shape);
  backend.softmax({ x: dense.backendView(op), out: y.backendView() }, op === 'logSoftmax');
  const log = op === 'logSoftmax';
  record(
    op,
    [dense],
    [y],
    ([g], [ys]) =>
      log
        ? // d/dx of log-softmax: g - softmax * sum(g)
          [sub(g!, mul(exp(ys!), sum(g!, -1, { keepdim: true })))]
        : // d/dx of softmax: y * (g - sum(g * y))
          [mul(ys!, sub(g!, sum(mul(g!, ys!), -1, { keepdim: true })))],
    [y],
  );
  if (dense !== moved) dense.dispose();
  if (moved === x) return y;
  moved.dispose();
  const back = transpose(y, a, last);
  y.dispose();
  return back;
}

export const softmax = (x: Tensor, axis = -1) => softmaxWith('softmax', x, axis);
export const logSoftmax = (x: Tensor, axis = -1) => softmaxWith('logSoftmax', x, axis);
