import { WebrnnError, fmtShape } from '../errors.js';
import { tidy } from '../scopes.js';
import type { Tensor } from '../tensor.js';
import { backendOf, floatOnly, intIndex } from './operands.js';
import { add, affine, log, mul, neg, square, sub } from './elementwise.js';
import { gather } from './indexing.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { reshape, unsqueeze } from './shape.js';

/** Losses, composed from ops (so their gradients come from the ops' own). */

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? x : reduction === 'sum' ? sum(x) : mean(x);
}

function checkReduction(op: string, reduction: string): asserts reduction is Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new WebrnnError(op, `reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
}

/**
 * Negative log-likelihood of class `target` (int32, 0-based) under log-probabilities `logp` of shape [N, C]
 * (or [C] with a scalar target). Torch's ClassNLLCriterion.
 */
export function nll(logp: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkClassArgs('nll', logp, target, reduction);
  return picked('nll', logp, target, reduction);
}

/**
 * nll once the arguments are checked; `op` names a bad target. Targets are checked where they are used, by the
 * gather kernel (the CPU at the call, WebGPU at the next read), so no host scan is needed.
 */
function picked(op: string, logp: Tensor, target: Tensor, reduction: Reduction): Tensor {
  if (logp.rank === 1) {
    return tidy(() =>
      reshape(picked(op, reshape(logp, [1, logp.shape[0]!]), reshape(target, [1]), reduction), []),
    );
  }
  const classes = logp.shape[1]!;
  return tidy(() => {
    const p = gather(logp, 1, unsqueeze(target, 1), { op, noun: 'target', range: `${classes} classes` });
    return reduce(neg(reshape(p, [p.shape[0]!])), reduction);
  });
}

/** What nll and crossEntropy need: float scores [N, C] with int32 targets [N] (or [C] with a 0-d target). */
function checkClassArgs(
  op: string,
  x: Tensor,
  target: Tensor,
  reduction: string,
): asserts reduction is Reduction {
  backendOf(op, x, target);
  checkReduction(op, reduction);
  floatOnly(op, x);
  intIndex(op, target, 'target');
  const single = x.rank === 1 && target.rank === 0;
  if (!single && (x.rank !== 2 || target.rank !== 1 || target.shape[0] !== x.shape[0])) {
    throw new WebrnnError(
      op,
      `expected input [N, C] and target [N] (or input [C] and a 0-d target), got input ${fmtShape(x.shape)} and target ${fmtShape(target.shape)}`,
    );
  }
}

/** Cross-entropy of raw scores `logits` [N, C] against int32 classes: nll(logSoftmax(logits)). */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkClassArgs('crossEntropy', logits, target, reduction);
  return tidy(() => picked('crossEntropy', logSoftmax(logits, -1), target, reduction));
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new WebrnnError(
      op,
      `input has shape ${fmtShape(a.shape)} but target has shape ${fmtShape(b.shape)}`,
    );
  }
  if (a.dtype !== b.dtype) throw new WebrnnError(op, `input is ${a.dtype} but target is ${b.dtype}`);
}

/** Mean (or summed) squared error. */
export function mse(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  backendOf('mse', input, target);
  checkReduction('mse', reduction);
  floatOnly('mse', input);
  sameShape('mse', input, target);
  return tidy(() => reduce(square(sub(input, target)), reduction));
}

/**
 * Binary cross-entropy of probabilities `input` in [0, 1] against targets in [0, 1]. As Torch's BCECriterion,
 * logs take p + 1e-12 and (1 - p) + 1e-12 so that p = 0 or 1 gives a finite loss and a finite gradient. 1 - p is
 * formed first: in float32, -p + (1 + 1e-12) rounds to 0 at p = 1 (1 + 1e-12 is 1), and the loss would be Inf.
 */
const EPS = 1e-12;

export function bce(input: Tensor, target: Tensor, reduction: Reduction = 'mean', weight?: Tensor): Tensor {
  backendOf('bce', input, target, ...(weight ? [weight] : []));
  checkReduction('bce', reduction);
  floatOnly('bce', input);
  sameShape('bce', input, target);
  if (weight) {
    const ok =
      weight.dtype === input.dtype &&
      weight.rank <= input.rank &&
      weight.shape.every((d, i) => d === 1 || d === input.shape[input.rank - weight.rank + i]);
    if (!ok) {
      throw new WebrnnError(
        'bce',
        `weight of shape ${fmtShape(weight.shape)} ${weight.dtype} does not broadcast to the input ${fmtShape(input.shape)} ${input.dtype}`,
      );
    }
  }
  return tidy(() => {
    const logP = log(affine(input, 1, EPS));
    const logQ = log(affine(affine(input, -1, 1), 1, EPS));
    const losses = neg(add(mul(target, logP), mul(affine(target, -1, 1), logQ)));
    return reduce(weight ? mul(losses, weight) : losses, reduction);
  });
}
