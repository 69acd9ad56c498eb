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
  // A source that shares elements with the target without being the same view (x.add_(x.t()), x.copy_(x[0]))
  // would read elements the write has already changed, in an order each backend picks: PyTorch refuses it too.
  if (partlyShared(target, source)) {
    throw new WebrnnError(
      op,
      `the source (shape ${fmtShape(source.shape)}, strides ${fmtShape(source.strides)}, offset ${source.offset}) shares memory with the target (shape ${fmtShape(target.shape)}, strides ${fmtShape(target.strides)}, offset ${target.offset}) without being the same view; clone() it first`,
    );
  }
}

/** The storage offsets of a view's elements. */
function offsetsOf(t: Tensor): number[] {
  let out = [t.offset];
  t.shape.forEach((n, d) => {
    out = out.flatMap((o) => Array.from({ length: n }, (_, i) => o + i * t.strides[d]!));
  });
  return out;
}

/** Whether `source` reads an element `target` writes, other than as the identical view. Exact, and only walked
 * when both views' ranges of the one storage overlap (never for distinct storages, the usual case). */
function partlyShared(target: Tensor, source: Tensor): boolean {
  // Stryker disable next-line ConditionalExpression: equivalent for the two size tests: an empty view has no offset to share.
  if (source.storage !== target.storage || source.size === 0 || target.size === 0) return false;
  const same =
    source.offset === target.offset &&
    shapesEqual(source.shape, target.shape) &&
    shapesEqual(source.strides, target.strides);
  if (same) return false;
  // The ranges only spare the exact walk below for disjoint views of one storage (flattened parameters): any
  // mutant of them still gives the exact answer.
  // Stryker disable all: equivalent, as said above.
  const range = (t: Tensor) => {
    const steps = t.shape.map((n, d) => (n - 1) * t.strides[d]!);
    const sum = (f: (v: number) => number) => steps.reduce((acc, v) => acc + f(v), t.offset);
    return [sum((v) => Math.min(0, v)), sum((v) => Math.max(0, v))] as const;
  };
  const [t0, t1] = range(target);
  const [s0, s1] = range(source);
  if (s1 < t0 || t1 < s0) return false;
  // Stryker restore all
  const written = new Set(offsetsOf(target));
  return offsetsOf(source).some((o) => written.has(o));
}

/** target = source (broadcast, cast to target's dtype), in place. */
export function copyInPlace(target: Tensor, source: Tensor): Tensor {
  const backend = backendOf('copy_', target, source);
  checkInPlace('copy_', target, source);
  // Stryker disable next-line StringLiteral: equivalent: the name labels a broadcast refusal that checkInPlace made above.
  backend.copy({ x: broadcastView(source, target.shape, 'copy_'), out: target.backendView() });
  // Stryker disable next-line UpdateOperator: equivalent: -- changes the version too; saved tensors compare versions for equality only.
  target.storage.version++;
  return target;
}
