import type { ReduceOpName } from '../backends/backend.js';
import { contiguousStrides, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, checkTensor } from './operands.js';

// The backend sum without a recorded node: the gradient of every broadcast (elementwise ops, expand), so it sits
// below both, and reduce.ts builds its ops on `rawReduce`.

export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * Run the backend reduction; the result has `keptShape` (or `shape`, of as many elements) and is reshaped to the
 * final shape by the caller.
 */
export function rawReduce(
  op: ReduceOpName,
  x: Tensor,
  axes: readonly number[],
  shape: readonly number[] = keptShape(x.shape, axes),
): Tensor {
  const backend = backendOf(op, x);
  const out = alloc(backend, op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype, shape);
  const kept = keptShape(x.shape, axes);
  const outView = { ...out.backendView(), shape: kept, strides: contiguousStrides(kept) };
  backend.reduce(op, { x: x.backendView(op), out: outView }, axes);
  return out;
}

/** Sum `g` down to `shape` (undoing broadcasting): the gradient of a broadcast. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  checkTensor('sumTo', g, 'g');
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  // Reduce straight into a tensor of `shape` (same elements, dense): a reshape would need ops/shape.ts, whose
  // expand has this function as its gradient.
  return rawReduce('sum', g, axes, shape);
}
