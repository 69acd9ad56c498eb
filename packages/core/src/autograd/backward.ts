import { WebrnnError, fmtShape } from '../errors.js';
import { onesLike } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { gradArithmetic } from './accumulate.js';
import { runBackward } from './tape.js';

/**
 * `tensor.backward(gradient?, { retainGraph })`: attached to Tensor with the other methods (ops/methods.ts), since
 * the implied seed and the accumulation are ops, which tensor.ts, below them, does not import.
 */
export function backward(t: Tensor, gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
  t.assertAlive('backward');
  if (!t.requiresGrad) {
    throw new WebrnnError(
      'backward',
      'this tensor does not require grad: no op on a tensor requiring grad made it',
    );
  }
  let seed = gradient;
  if (!seed) {
    if (t.size !== 1) {
      throw new WebrnnError(
        'backward',
        `a gradient can be implied only for a single-element output; pass one of shape ${fmtShape(t.shape)}`,
      );
    }
    seed = onesLike(t);
  } else if (seed.shape.join() !== t.shape.join() || seed.dtype !== t.dtype || seed.device !== t.device) {
    throw new WebrnnError(
      'backward',
      `gradient has shape ${fmtShape(seed.shape)} ${seed.dtype} on ${seed.device}, expected ${fmtShape(t.shape)} ${t.dtype} on ${t.device}`,
    );
  }
  runBackward(
    [t],
    [seed],
    [],
    { retainGraph: options.retainGraph ?? false, accumulateLeaves: true },
    gradArithmetic,
  );
  if (!gradient) seed.dispose();
}
