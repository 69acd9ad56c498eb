import type { BackwardFn } from '../autograd/tape.js';
import type { Tensor } from '../tensor.js';
import { record } from './operands.js';

export type { BackwardFn };

/**
 * Put a hand-written op on the tape: `outputs` were computed from `inputs` without recording (e.g. under
 * noGrad, or by the backend directly); `backward` receives the outputs' gradients (zeros for unused outputs),
 * the `saved` tensors and which inputs need a gradient, and returns one gradient (or null) per input. For ops
 * whose gradient is not the derivative of their forward, such as REINFORCE's score-function estimator, or a
 * fused forward with its own backward. Nothing is recorded when no input requires grad or recording is off.
 * Returns `outputs`.
 */
export function customOp<T extends readonly Tensor[]>(
  name: string,
  inputs: readonly Tensor[],
  outputs: T,
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
): T {
  record(name, inputs, outputs, backward, saved);
  return outputs;
}
