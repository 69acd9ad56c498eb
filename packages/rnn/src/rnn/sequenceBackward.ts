import { type Activity, flattenActivity, unflattenActivity } from '../nn/activity.js';
import { scaledVjp } from '../nn/backprop.js';
import type { Tensor } from '../nn/deps.js';
import { type AbstractRecurrent, recurrentDescendants } from './AbstractRecurrent.js';

/** A recurrent module and every recurrent module inside it. */
export function recurrentFamily(m: AbstractRecurrent): AbstractRecurrent[] {
  return [m, ...recurrentDescendants(m)];
}

/**
 * The backward of whole unrolled sequences (Sequencer, Repeater, BiSequencer, RecurrentAttention): one
 * vector-Jacobian product from the step outputs to the input's boundaries and to the states the steps of the
 * `family` of recurrent modules started from. The latter go to each module's gradPrevState, and their step-wise
 * backward state is reset. Returns the gradInput.
 */
export function sequenceBackward(
  family: readonly AbstractRecurrent[],
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  boundaryInput: Activity,
  scale: number,
  accumulate = true,
): Activity {
  const starts = family.map((m) => m.firstPrevState());
  const ins = flattenActivity(boundaryInput);
  const extra = starts.flatMap((s) => (s ? flattenActivity(s) : []));
  const grads = scaledVjp(outputs, gradOutputs, [...ins, ...extra], scale, accumulate);
  let k = ins.length;
  family.forEach((m, i) => {
    const s = starts[i];
    const n = s ? flattenActivity(s).length : 0;
    m.finishSequenceBackward(s ? unflattenActivity(s, grads.slice(k, k + n)) : null);
    k += n;
  });
  return unflattenActivity(boundaryInput, grads.slice(0, ins.length));
}
