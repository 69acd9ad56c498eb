import { checkTensor } from '../ops/operands.js';
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './gradMode.js';
import { Node, edgeOf } from './tape.js';

/**
 * An identity node that always requires grad (for float tensors): what a module's forward passes its input
 * through, so that `vjp(output, gradOutput, [boundary])` yields the module's gradInput even when the input
 * itself needs no gradient. Gradients flow on to the input when it does.
 */
export function boundary(x: Tensor): Tensor {
  checkTensor('boundary', x, 'x');
  const y = x.detach();
  if (!isGradEnabled() || x.dtype === 'int32') return y;
  const node = new Node('boundary', [edgeOf(x)], [x.shape], [], ([g]) => [g!], [{ shape: x.shape }]);
  y.gradFn = node;
  node.retain();
  return y;
}
