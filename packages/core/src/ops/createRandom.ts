import { WebrnnError } from '../errors.js';
import { type Generator, defaultGenerator } from '../random.js';
import { hostArray } from '../storage.js';
import type { Tensor } from '../tensor.js';
import { checkDTypeName } from './create.js';
import { type TensorOptions, checkShape, convert, fromHost } from './hostData.js';
import { INT32_MAX, checkInt32 } from './operands.js';

/** The random creation ops (uniform, rand, randn, randint, randperm), all drawn on the host from a Generator. */
export interface RandomOptions extends TensorOptions {
  readonly generator?: Generator;
}

function random(
  op: string,
  shape: readonly number[],
  opts: RandomOptions,
  sample: (g: Generator) => number,
): Tensor {
  checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  checkDTypeName(op, dtype);
  if (dtype === 'int32' && op !== 'randint') {
    throw new WebrnnError(op, 'draws real numbers, which int32 cannot hold; use randint for integers');
  }
  const g = opts.generator ?? defaultGenerator;
  return fromHost(op, dtype, shape, opts, (n) => {
    const data = hostArray(op, dtype, n);
    for (let i = 0; i < n; i++) data[i] = sample(g);
    return data;
  });
}

/** Uniform in [low, high). */
export function uniform(shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}): Tensor {
  if (!(high >= low)) throw new WebrnnError('uniform', `needs low <= high, got ${low} and ${high}`);
  if ((opts.dtype ?? 'float32') !== 'float32' || high === low) {
    return random('uniform', shape, opts, (g) => low + (high - low) * g.next());
  }
  // In float32 a draw just below `high` would round up to it: keep the interval half-open, as the doc says.
  const top = below32(high);
  return random('uniform', shape, opts, (g) => {
    const v = low + (high - low) * g.next();
    return Math.fround(v) >= high ? top : v;
  });
}

/** The largest float32 strictly below x. */
function below32(x: number): number {
  const f = new Float32Array([x]);
  if (f[0]! < x) return f[0]!;
  const bits = new Int32Array(f.buffer);
  if (f[0]! > 0) bits[0]!--;
  else if (f[0]! < 0) bits[0]!++;
  else return -1.401298464324817e-45; // below +-0: the smallest negative subnormal
  return f[0]!;
}

export const rand = (shape: readonly number[], opts: RandomOptions = {}): Tensor =>
  uniform(shape, 0, 1, opts);

/** Normal with the given mean and standard deviation. */
export function randn(
  shape: readonly number[],
  opts: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  return random('randn', shape, opts, (g) => mean + std * g.normal());
}

/** Integers uniform in [low, high), int32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: RandomOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new WebrnnError('randint', `needs integers low < high, got ${low} and ${high}`);
  }
  if ((opts.dtype ?? 'int32') === 'int32') {
    // high is exclusive: the largest draw is high - 1.
    checkInt32('randint', low, 'low');
    checkInt32('randint', high - 1, 'high - 1 (the largest draw)');
  }
  return random(
    'randint',
    shape,
    { ...opts, dtype: opts.dtype ?? 'int32' },
    (g) => low + Math.floor(g.next() * (high - low)),
  );
}

/**
 * A random permutation of 0 .. n-1 (torch.randperm), int32 by default: a Fisher-Yates shuffle drawn on the host
 * from the generator, so the same generator state gives the same permutation on every device.
 */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0 || n > INT32_MAX) {
    throw new WebrnnError('randperm', `n must be an integer in [0, ${INT32_MAX}], got ${n}`);
  }
  const dtype = opts.dtype ?? 'int32';
  checkDTypeName('randperm', dtype);
  const g = opts.generator ?? defaultGenerator;
  return fromHost('randperm', dtype, [n], opts, () => {
    const data = hostArray('randperm', 'float64', n);
    for (let i = 0; i < n; i++) data[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(g.next() * (i + 1));
      const t = data[i]!;
      data[i] = data[j]!;
      data[j] = t;
    }
    return convert('randperm', data, dtype, [n]);
  });
}
