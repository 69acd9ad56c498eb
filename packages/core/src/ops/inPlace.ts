import { isGradEnabled as isRecordingOn } from '../autograd/gradMode.js';
import { WebrnnError, fmtShape } from '../errors.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, broadcastView } from './operands.js';

// The checks of every in-place write, and copy_: a file of its own because the view ops (ops/shape.ts: the
// gradient of narrow/select) copy in place too, and elementwise.ts sits above them.

export function checkInPlace(op: string, target: Tensor, source: Tensor): void {
  if (target.isLeaf && target.requiresGrad && isRecordingOn()) {
    throw new WebrnnError(
      op,
      'a leaf tensor that requires grad cannot be modified in place while gradients are recorded; use noGrad()',
    );
  }
  // An expanded target has elements that share one memory location: each would be written with its own value
  // (the CPU keeps the last, WebGPU threads race). PyTorch refuses too.
  if (target.size > 0 && target.shape.some((d, i) => d > 1 && target.strides[i] === 0)) {
    throw new WebrnnError(
      op,
      `cannot write in place into an expanded tensor of shape ${fmtShape(target.shape)} (strides ${fmtShape(target.strides)}): several of its elements share one memory location; write into a clone() instead`,
    );
  }
  if (!shapesEqual(broadcastShapes(op, target.shape, source.shape), target.shape)) {
    throw new WebrnnError(
      op,
      `cannot write a result of shape ${fmtShape(source.shape)} into ${fmtShape(target.shape)}`,
    );
  }
}

/** target = source (broadcast, cast to target's dtype), in place. */
export function copyInPlace(target: Tensor, source: Tensor): Tensor {
  const backend = backendOf('copy_', target, source);
  checkInPlace('copy_', target, source);
  backend.copy({ x: broadcastView(source, target.shape, 'copy_'), out: target.backendView() });
  target.storage.version++;
  return target;
}
