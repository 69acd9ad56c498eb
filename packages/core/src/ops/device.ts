import type { DeviceName } from '../backends/backend.js';
import { getBackend } from '../backends/registry.js';
import type { DType } from '../dtype.js';
import { WebrnnError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkDTypeName } from './create.js';
import { alloc, backendOf, checkTensor, record } from './operands.js';

/** Moving a tensor to another dtype (`cast`) or device (`to`, `toAsync`): copies, never views. */

/**
 * Convert to another dtype (a copy; gradients flow between float types). Float to int32 truncates toward zero and
 * saturates: values beyond int32's range become its minimum or maximum, NaN becomes 0, on every device (PyTorch
 * leaves out-of-range float -> int conversions undefined; WGSL's i32() saturates, a plain Int32Array store would
 * wrap 3e9 to -1294967296).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  const backend = backendOf('cast', x);
  checkDTypeName('cast', dtype);
  const y = alloc(backend, dtype, x.shape);
  backend.copy({ x: x.backendView('cast'), out: y.backendView() });
  if (dtype !== 'int32') record('cast', [x], [y], ([g]) => [cast(g!, x.dtype)]);
  return y;
}

/**
 * The checks `to` and `toAsync` share: when `x` is already on `device`, another handle as a move would give it (a
 * leaf keeps its requiresGrad; a tensor inside a graph stays at its place there, so gradients still flow), else null.
 */
function sameDeviceOrCheckMove(x: Tensor, device: DeviceName): Tensor | null {
  checkTensor('to', x, 'x');
  if (x.device === device) {
    const y = x.handle();
    if (x.isLeaf && x.requiresGrad) y.requiresGrad = true;
    return y;
  }
  if (!x.isLeaf) {
    throw new WebrnnError(
      'to',
      'cannot move a tensor that is part of an autograd graph across devices; detach() it first',
    );
  }
  return null;
}

/**
 * Copy to another device. Not recorded on the tape: the copy is a new leaf with the same requiresGrad (as for
 * moving parameters), so moving a tensor that is inside a graph is refused.
 */
export function to(x: Tensor, device: DeviceName): Tensor {
  const same = sameDeviceOrCheckMove(x, device);
  if (same) return same;
  if (!x.backend.canReadSync) {
    throw new WebrnnError(
      'to',
      `reading from ${x.device} is asynchronous; use \`await toAsync(t, '${device}')\``,
    );
  }
  return upload(x, device, x.backend.readSync(x.backendView('to')));
}

export async function toAsync(x: Tensor, device: DeviceName): Promise<Tensor> {
  const same = sameDeviceOrCheckMove(x, device);
  if (same) return same;
  return upload(x, device, await x.data());
}

function upload(x: Tensor, device: DeviceName, data: Parameters<Tensor['backend']['write']>[1]): Tensor {
  const y = alloc(getBackend(device), x.dtype, x.shape);
  y.backend.write(y.storage.buffer, data);
  if (x.requiresGrad) y.requiresGrad = true;
  return y;
}
