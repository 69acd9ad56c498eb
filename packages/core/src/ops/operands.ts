import { INT32_MAX, INT32_MIN } from '@webrnn/kernels';
import { type BackwardFn, Node, edgeOf } from '../autograd/tape.js';
import { isGradEnabled } from '../autograd/gradMode.js';
import type { Backend, View } from '../backends/backend.js';
import type { DType } from '../dtype.js';
import { WebrnnError, checkDType, fmtShape } from '../errors.js';
import { untrack } from '../scopes.js';
import { Tensor, empty } from '../tensor.js';

/**
 * The few helpers every op uses: validation of devices and dtypes, output allocation, broadcast views, and
 * recording on the tape.
 */

/** What a value is, for messages: "undefined", "an Array", "a number (3)", "a Float32Array". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an Array';
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'string':
      return `a string ('${value.length > 20 ? `${value.slice(0, 20)}...` : value}')`;
    case 'function':
      return 'a function';
    default: {
      const name = (value as object).constructor?.name ?? 'Object';
      return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
    }
  }
}

/**
 * Check that `value`, the argument `name` of `op`, is a live Tensor: anything else (a plain array, a number,
 * undefined) would otherwise fail deep inside the op with an unrelated TypeError.
 */
export function checkTensor(op: string, value: unknown, name: string): asserts value is Tensor {
  checkLive(op, value, `argument ${name}`);
}

function checkLive(op: string, value: unknown, what: string): asserts value is Tensor {
  checkKind(op, value, what);
  value.assertAlive(op);
}

/** Like checkTensor, for the few callers that read only a tensor's dtype and device (a disposed one will do). */
export function checkIsTensor(op: string, value: unknown, name: string): asserts value is Tensor {
  checkKind(op, value, `argument ${name}`);
}

function checkKind(op: string, value: unknown, what: string): asserts value is Tensor {
  if (!(value instanceof Tensor)) {
    throw new WebrnnError(op, `${what} is ${describeValue(value)}, expected a Tensor`);
  }
}

/** Check that `value`, the argument `name` of `op`, is an array of live Tensors. */
export function checkTensorList(op: string, value: unknown, name: string): asserts value is Tensor[] {
  if (!Array.isArray(value)) {
    throw new WebrnnError(op, `argument ${name} is ${describeValue(value)}, expected an array of Tensors`);
  }
  value.forEach((t, i) => checkTensor(op, t, `${name}[${i}]`));
}

/**
 * Check every tensor is a live Tensor on one device; returns that device's backend. Ops that name their operands
 * check them with checkTensor first; here they are named by position among the op's tensor operands.
 */
export function backendOf(op: string, ...tensors: Tensor[]): Backend {
  allocatingOp = op;
  tensors.forEach((t, i) =>
    checkLive(op, t, tensors.length === 1 ? 'the tensor argument' : `tensor operand ${i + 1}`),
  );
  const first = tensors[0]!;
  for (const t of tensors) {
    if (t.device !== first.device) {
      throw new WebrnnError(
        op,
        `tensors are on different devices (${first.device} and ${t.device}); move one with .to()`,
      );
    }
  }
  return first.backend;
}

export { INT32_MAX, INT32_MIN };

/** Why `v` is not an int32 value (null when it is one): a fraction, NaN, +-Inf or out of range would be wrapped. */
export function notInt32(v: number): string | null {
  if (typeof v !== 'number') return 'not a number';
  if (Number.isNaN(v) || !Number.isFinite(v)) return 'not finite';
  if (!Number.isInteger(v)) return 'not an integer';
  if (v < INT32_MIN || v > INT32_MAX) return `outside int32's range [${INT32_MIN}, ${INT32_MAX}]`;
  return null;
}

/** Refuse `value` (described as `what`, e.g. "the fill value") for an int32 tensor unless it is an int32 value. */
export function checkInt32(op: string, value: number, what: string): void {
  const why = notInt32(value);
  if (why) throw new WebrnnError(op, `${what} is ${value}, ${why}, so it cannot be stored as int32`);
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

/**
 * The op that last checked its operands with backendOf: the one whose outputs are being allocated, named when a
 * shape is too large to allocate (so that the many `alloc` calls need not repeat their op's name).
 */
let allocatingOp = 'alloc';

/** A fresh contiguous output on `backend`; `op` (by default the op that called backendOf) names it in errors. */
export function alloc(backend: Backend, dtype: DType, shape: readonly number[], op = allocatingOp): Tensor {
  return empty(backend, dtype, shape, op);
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
    saved.map((t) => untrack(t.detach())),
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
