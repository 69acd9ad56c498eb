import { WebrnnError, fmtShape } from '../errors.js';
import { checkTensorList } from '../ops/operands.js';
import type { Tensor } from '../tensor.js';
import { gradArithmetic } from './accumulate.js';
import { type BackwardResult, type VjpOptions, runBackward } from './tape.js';

/**
 * Vector-Jacobian product over the sub-graph between `inputs` and `outputs`: the gradients of
 * sum(outputs[i] * gradOutputs[i]) with respect to each input (null where no path leads). Gradients stop at the
 * inputs; with `accumulateLeaves` the parameters met on the way also get `.grad` (Torch's accGradParameters).
 */
export function vjp(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  inputs: readonly Tensor[],
  opts: VjpOptions = {},
): (Tensor | null)[] {
  return vjpObserving(outputs, gradOutputs, inputs, [], opts, 'vjp').inputs;
}

/**
 * `vjp`, also returning the gradient of the same sum with respect to each tensor of `observe` (null where no
 * path leads) without stopping there: the backward runs on through them to the inputs. Observed tensors are
 * outputs of ops (e.g. `boundary` nodes inside a model) or inputs.
 */
export function vjpObserving(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  inputs: readonly Tensor[],
  observe: readonly Tensor[],
  opts: VjpOptions = {},
  op = 'vjpObserving',
): BackwardResult {
  checkTensorList(op, outputs, 'outputs');
  checkTensorList(op, gradOutputs, 'gradOutputs');
  checkTensorList(op, inputs, 'inputs');
  checkTensorList(op, observe, 'observe');
  if (outputs.length !== gradOutputs.length) {
    throw new WebrnnError(op, `got ${outputs.length} outputs but ${gradOutputs.length} gradients`);
  }
  outputs.forEach((o, i) => {
    const g = gradOutputs[i]!;
    if (o.shape.join() !== g.shape.join()) {
      throw new WebrnnError(
        op,
        `gradient ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(o.shape)}`,
      );
    }
  });
  const live = outputs.map((o, i) => [o, gradOutputs[i]!] as const).filter(([o]) => o.requiresGrad);
  return runBackward(
    live.map(([o]) => o),
    live.map(([, g]) => g),
    inputs,
    { retainGraph: opts.retainGraph ?? false, accumulateLeaves: opts.accumulateLeaves ?? false },
    gradArithmetic,
    observe,
  );
}
