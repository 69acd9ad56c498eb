import { type Activity, flattenActivity, unflattenActivity } from '../nn/activity.js';
import { scaledVjp } from '../nn/backprop.js';
import type { Tensor } from '../nn/deps.js';
import { type AbstractRecurrent, recurrentDescendants } from './AbstractRecurrent.js';

/**
 * The backward of a whole unrolled sequence (Sequencer, Repeater): one vector-Jacobian product from the step
 * outputs to the input's boundaries and to the states the steps started from. The latter go to each recurrent
 * module's gradPrevState (inside `module` too), whose step-wise backward state is reset. Returns the gradInput.
 */
export function sequenceBackward(
  module: AbstractRecurrent,
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  boundaryInput: Activity,
  scale: number,
): Activity {
  const family = [module, ...recurrentDescendants(module)];
  const starts = family.map((m) => m.firstPrevState());
  const ins = flattenActivity(boundaryInput);
  const extra = starts.flatMap((s) => (s ? flattenActivity(s) : []));
  const grads = scaledVjp(outputs, gradOutputs, [...ins, ...extra], scale, true);
  let k = ins.length;
  family.forEach((m, i) => {
    const s = starts[i];
    const n = s ? flattenActivity(s).length : 0;
    m.finishSequenceBackward(s ? unflattenActivity(s, grads.slice(k, k + n)) : null);
    k += n;
  });
  return unflattenActivity(boundaryInput, grads.slice(0, ins.length));
}
