import type { DeviceName } from '../backends/backend.js';
import { getBackend } from '../backends/registry.js';
import { type DType, type TypedArray, typedArrayFor } from '../dtype.js';
import { WebrnnError, coordinatesOf, fmtShape } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { notInt32 } from './operands.js';

/** What the creation ops (create.ts, createRandom.ts) share and do not export: options, shape check, host data. */
export interface TensorOptions {
  readonly dtype?: DType;
  readonly device?: DeviceName;
  readonly requiresGrad?: boolean;
}

export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new WebrnnError(op, `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/**
 * A new tensor of `shape` whose values `values(n)` makes on the host. The tensor is allocated first, so that a
 * shape too large for its device is refused before any host array of that size is made.
 */
export function fromHost(
  op: string,
  dtype: DType,
  shape: readonly number[],
  opts: TensorOptions,
  values: (n: number) => TypedArray,
): Tensor {
  const t = empty(getBackend(opts.device), dtype, shape, op);
  try {
    t.backend.write(t.storage.buffer, values(t.size));
  } catch (e) {
    t.dispose();
    throw e;
  }
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * `data` as a typed array of `dtype`, for op `op` and a tensor of `shape`. Values an int32 cannot hold exactly
 * (fractions, NaN, +-Inf, beyond its range) are refused with their position: Int32Array would wrap 3e9 to
 * -1294967296 and truncate 1.5 without a word.
 */
export function convert(
  op: string,
  data: ArrayLike<number>,
  dtype: DType,
  shape: readonly number[],
): TypedArray {
  const out = typedArrayFor(dtype, data.length);
  if (dtype === 'int32' && !(data instanceof Int32Array)) {
    for (let i = 0; i < data.length; i++) {
      const why = notInt32(data[i]!);
      if (why) {
        throw new WebrnnError(
          op,
          `element ${i}${shape.length > 1 ? ` (at ${fmtShape(coordinatesOf(i, shape))})` : ''} is ${data[i]}, ${why}, so it cannot be stored as int32`,
        );
      }
    }
  }
  for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  return out;
}
