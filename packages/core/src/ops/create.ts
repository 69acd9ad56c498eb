import { getBackend } from '../backends/registry.js';
import { DTYPES, type DType, type TypedArray, dtypeOfArray } from '../dtype.js';
import { WebrnnError, fmtShape } from '../errors.js';
import { sizeOf } from '../shape.js';
import { hostArray } from '../storage.js';
import { type NestedArray, Tensor, empty } from '../tensor.js';
import { checkInt32, checkIsTensor, checkTensor } from './operands.js';
import { type TensorOptions, checkShape, convert, fromHost } from './hostData.js';

export type { TensorOptions };

export interface CreateOptions extends TensorOptions {
  /** Reshape flat data to this shape. */
  readonly shape?: readonly number[];
}

/** Refuse a dtype that is not one of ours (a typo or a PyTorch name would otherwise fail deep in a typed array). */
export function checkDTypeName(op: string, dtype: DType): void {
  if (!DTYPES.includes(dtype)) {
    throw new WebrnnError(op, `unknown dtype '${String(dtype)}', expected ${DTYPES.join(', ')}`);
  }
}

/** Upload host values into a new tensor. */
export function fromData(data: TypedArray, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return upload('fromData', data, shape, opts);
}

function upload(op: string, data: TypedArray, shape: readonly number[], opts: TensorOptions): Tensor {
  const dtype = opts.dtype ?? dtypeOfArray(data);
  checkDTypeName(op, dtype);
  const typed = dtype === dtypeOfArray(data) ? data : convert(op, data, dtype, shape);
  const t = empty(getBackend(opts.device), dtype, shape, op);
  t.backend.write(t.storage.buffer, typed);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Create a tensor from a number, a nested array or a typed array (shape given by `opts.shape` or by the nesting).
 * Default dtype: that of a typed array, else float32.
 */
export function tensor(
  data: number | NestedArray | TypedArray | readonly number[],
  opts: CreateOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let shape: number[];
  if (typeof data === 'number') {
    flat = [data];
    shape = [];
  } else if (ArrayBuffer.isView(data)) {
    flat = data;
    shape = [data.length];
  } else {
    shape = inferShape(data as NestedArray);
    flat = flattenChecked(data as NestedArray, shape) as number[];
  }
  if (opts.shape) {
    const n = sizeOf(opts.shape);
    if (n !== flat.length || opts.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new WebrnnError('tensor', `${flat.length} values cannot take shape ${fmtShape(opts.shape)}`);
    }
    shape = [...opts.shape];
  }
  const dtype = opts.dtype ?? (ArrayBuffer.isView(data) ? dtypeOfArray(data as TypedArray) : 'float32');
  checkDTypeName('tensor', dtype);
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number')
      throw new WebrnnError('tensor', `element ${i} is not a number: ${flat[i]}`);
  }
  const typed =
    ArrayBuffer.isView(flat) && dtypeOfArray(flat as TypedArray) === dtype
      ? (flat as TypedArray)
      : convert('tensor', flat, dtype, shape);
  return upload('tensor', typed, shape, { ...opts, dtype });
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    if (d.length === 0) break;
    d = d[0]!;
  }
  return shape;
}

/**
 * The values of `data` in row-major order, checking that every sub-array at depth d has length shape[d] and that
 * numbers appear only at depth shape.length (so [[1, 2], [3]] and [1, [2]] are refused, not silently flattened).
 */
function flattenChecked(data: NestedArray, shape: readonly number[]): unknown[] {
  const out: unknown[] = [];
  const ragged = (path: number[], what: string) =>
    new WebrnnError(
      'tensor',
      `nested arrays are ragged: element [${path.join(', ')}] ${what}, expected shape ${fmtShape(shape)} (from the first elements)`,
    );
  const walk = (d: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(d)) throw ragged(path, 'is an array where a number was expected');
      out.push(d);
      return;
    }
    if (!Array.isArray(d))
      throw ragged(path, `is ${String(d)} where an array of length ${shape[depth]} was expected`);
    if (d.length !== shape[depth]) throw ragged(path, `has length ${d.length} instead of ${shape[depth]}`);
    for (let i = 0; i < d.length; i++) walk(d[i], depth + 1, [...path, i]);
  };
  walk(data, 0, []);
  return out;
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return fullAs('full', shape, value, opts);
}

function fullAs(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  checkShape(op, shape);
  checkDTypeName(op, opts.dtype ?? 'float32');
  if (opts.dtype === 'int32') checkInt32(op, value, 'the fill value');
  const t = empty(getBackend(opts.device), opts.dtype ?? 'float32', shape, op);
  t.backend.fill({ out: t.backendView() }, value);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor =>
  fullAs('zeros', shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor =>
  fullAs('ones', shape, 1, opts);

function fullLike_(op: string, t: Tensor, value: number, opts: TensorOptions): Tensor {
  checkTensor(op, t, 't');
  return fullAs(op, t.shape, value, { dtype: t.dtype, device: t.device, ...opts });
}
export const zerosLike = (t: Tensor, opts: TensorOptions = {}) => fullLike_('zerosLike', t, 0, opts);
export const onesLike = (t: Tensor, opts: TensorOptions = {}) => fullLike_('onesLike', t, 1, opts);
export const fullLike = (t: Tensor, v: number, opts: TensorOptions = {}) => fullLike_('fullLike', t, v, opts);

/** Values start, start+step, ... below end (like torch.arange); int32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step)) {
    throw new WebrnnError(
      'arange',
      `needs finite start/end and a non-zero step, got ${start}, ${end}, ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  checkDTypeName('arange', dtype);
  return fromHost('arange', dtype, [n], opts, () => {
    const data = hostArray('arange', 'float64', n);
    for (let i = 0; i < n; i++) data[i] = start + i * step;
    return convert('arange', data, dtype, [n]);
  });
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new WebrnnError('linspace', `steps must be a non-negative integer, got ${steps}`);
  }
  const dtype = opts.dtype ?? 'float32';
  checkDTypeName('linspace', dtype);
  return fromHost('linspace', dtype, [steps], opts, () => {
    const data = hostArray('linspace', 'float64', steps);
    const d = steps > 1 ? (end - start) / (steps - 1) : 0;
    for (let i = 0; i < steps; i++) data[i] = start + i * d;
    return convert('linspace', data, dtype, [steps]);
  });
}

/**
 * Torch's inclusive `range`: start, start+step, ... up to and including end (floor((end - start) / step) + 1
 * values, as torch.range). float32 by default, as Torch (unlike arange, which is int32 for integer arguments).
 */
export function range(start: number, end: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step)) {
    throw new WebrnnError(
      'range',
      `needs finite start/end and a non-zero step, got ${start}, ${end}, ${step}`,
    );
  }
  if ((end - start) / step < 0) {
    throw new WebrnnError(
      'range',
      `the step's sign must lead from start to end, got start ${start}, end ${end}, step ${step}`,
    );
  }
  // A quotient within 1e-9 of an integer counts as one: range(0, 1, 0.1) has 11 values, as Torch's.
  const q = (end - start) / step;
  const n = Math.floor(q + 1e-9 * Math.max(1, q)) + 1;
  const dtype = opts.dtype ?? 'float32';
  checkDTypeName('range', dtype);
  return fromHost('range', dtype, [n], opts, () => {
    const data = hostArray('range', 'float64', n);
    for (let i = 0; i < n; i++) data[i] = start + i * step;
    return convert('range', data, dtype, [n]);
  });
}

/** `steps` values base^t for t evenly spaced from start to end inclusive (torch.logspace); float32 by default. */
export function logspace(
  start: number,
  end: number,
  steps: number,
  base = 10,
  opts: TensorOptions = {},
): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new WebrnnError('logspace', `steps must be a non-negative integer, got ${steps}`);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(base) || base <= 0) {
    throw new WebrnnError(
      'logspace',
      `needs finite start/end and a finite positive base, got ${start}, ${end}, base ${base}`,
    );
  }
  const dtype = opts.dtype ?? 'float32';
  checkDTypeName('logspace', dtype);
  return fromHost('logspace', dtype, [steps], opts, () => {
    const data = hostArray('logspace', 'float64', steps);
    const d = steps > 1 ? (end - start) / (steps - 1) : 0;
    for (let i = 0; i < steps; i++) data[i] = base ** (start + i * d);
    return convert('logspace', data, dtype, [steps]);
  });
}

/** A 0-d tensor holding `value`, matching `like`'s dtype and device. */
export function scalarLike(like: Tensor, value: number): Tensor {
  // Only its dtype and device are read: the op that uses the scalar checks that `like` is alive.
  checkIsTensor('scalarLike', like, 'like');
  return full([], value, { dtype: like.dtype, device: like.device });
}

export { Tensor };
