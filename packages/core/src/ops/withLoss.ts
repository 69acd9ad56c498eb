import { WebrnnError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { backendOf, record } from './operands.js';
import { full } from './create.js';

/**
 * `x` unchanged, tied to an auxiliary scalar `loss`: whatever gradient reaches the result flows on to `x`, and the
 * backward pass also backpropagates `loss` itself, as if it had been added to the final objective. This is how a
 * module adds a regulariser from inside a network (Element-research's NormStabilizer) without changing its output.
 */
export function withLoss(x: Tensor, loss: Tensor): Tensor {
  backendOf('withLoss', x, loss);
  if (loss.size !== 1) {
    throw new WebrnnError('withLoss', `loss must have one element, got shape ${fmtShape(loss.shape)}`);
  }
  const y = x.detach();
  const { shape, dtype, device } = loss; // all backward needs: the loss tensor itself may be disposed by then
  record('withLoss', [x, loss], [y], ([g], _s, needs) => [
    needs[0] ? g! : null,
    needs[1] ? full(shape, 1, { dtype, device }) : null,
  ]);
  return y;
}
