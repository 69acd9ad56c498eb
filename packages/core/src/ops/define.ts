import { type BackwardFn, Node, edgeOf } from '../autograd/tape.js';
import { isGradEnabled } from '../autograd/gradMode.js';
import type { Backend, View } from '../backends/backend.js';
import type { DType } from '../dtype.js';
import { WebrnnError, checkDType, fmtShape } from '../errors.js';
import { untrack } from '../memory.js';
import { Tensor, empty } from '../tensor.js';

/**
 * The few helpers every op uses: validation of devices and dtypes, output allocation, broadcast views, and
 * recording on the tape.
 */

/** Check every tensor is alive and on one device; returns that device's backend. */
export function backendOf(op: string, ...tensors: Tensor[]): Backend {
  const first = tensors[0]!;
  for (const t of tensors) {
    t.assertAlive(op);
    if (t.device !== first.device) {
      throw new WebrnnError(
        op,
        `tensors are on different devices (${first.device} and ${t.device}); move one with .to()`,
      );
    }
  }
  return first.backend;
}

export function sameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new WebrnnError(op, `dtype mismatch: ${a.dtype} and ${b.dtype}; convert one with .cast(dtype)`);
  }
}

export function floatOnly(op: string, t: Tensor, what = 'input'): void {
  checkDType(op, t.dtype, ['float32', 'float64'], what);
}

export function intIndex(op: string, t: Tensor, what = 'index'): void {
  checkDType(op, t.dtype, ['int32'], what);
}

/** A fresh contiguous output on `backend`. */
export function alloc(backend: Backend, dtype: DType, shape: readonly number[]): Tensor {
  return empty(backend, dtype, shape);
}

/** `t` seen as `shape` (numpy broadcasting): stride 0 on stretched or added dims. */
export function broadcastView(t: Tensor, shape: readonly number[], op = 'broadcast'): View {
  const v = t.backendView(op);
  const lead = shape.length - t.rank;
  if (lead < 0) throw new WebrnnError(op, `cannot broadcast ${fmtShape(t.shape)} to ${fmtShape(shape)}`);
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const s = t.shape[i - lead]!;
    if (s === d) return s === 1 ? 0 : t.strides[i - lead]!;
    if (s === 1) return 0;
    throw new WebrnnError(op, `cannot broadcast ${fmtShape(t.shape)} to ${fmtShape(shape)}`);
  });
  return { ...v, shape, strides };
}

/**
 * Put `outputs` on the tape as results of op `name` applied to `inputs`, when any input requires grad and
 * recording is on. `saved` are the tensors backward reads; the node holds them until backward or disposal.
 */
export function record(
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
): void {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return;
  const node = new Node(
    name,
    inputs.map(edgeOf),
    inputs.map((t) => t.shape),
    // The node's own holds, outside any tidy scope: they live exactly as long as the graph.
    saved.map((t) => untrack(t.alias())),
    backward,
    outputs.map((o) => ({ shape: o.shape })),
  );
  outputs.forEach((o, i) => {
    o.gradFn = node;
    o.outputIndex = i;
    node.retain();
  });
}

/** True when this op would be recorded (so ops can skip saving work otherwise). */
export function recording(...inputs: Tensor[]): boolean {
  return isGradEnabled() && inputs.some((t) => t.requiresGrad);
}
