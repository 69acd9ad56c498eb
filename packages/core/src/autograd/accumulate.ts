import { zeros } from '../ops/create.js';
import { add, addInPlace } from '../ops/elementwise.js';
import { clone } from '../ops/shape.js';
import { untrack } from '../scopes.js';
import type { Tensor } from '../tensor.js';
import type { GradArithmetic } from './tape.js';

/**
 * How gradients are summed, written with ops. It lives above the ops (the tape below them cannot import them) and
 * is handed to the engine by its two entries, `backward` and `vjp`.
 */
export const gradArithmetic: GradArithmetic = {
  add,
  zerosOfShape: (like, shape) => zeros(shape, { dtype: like.dtype, device: like.device }),
  accumulateGrad,
};

/** Accumulate `g` (taken over) into `leaf.grad`, in place when a gradient is already there. */
function accumulateGrad(leaf: Tensor, g: Tensor): void {
  if (leaf.grad && !leaf.grad.isDisposed) {
    addInPlace(leaf.grad, g);
    g.dispose();
    return;
  }
  // Own a private contiguous copy: g's storage may be shared with gradients still in flight.
  leaf.grad =
    g.isContiguous && g.offset === 0 && g.storage.size === g.size && !g.storage.shared ? g : clone(g);
  if (leaf.grad !== g) g.dispose();
  untrack(leaf.grad);
}
