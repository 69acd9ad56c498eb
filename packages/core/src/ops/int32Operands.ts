import { WebrnnError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { INT32_MAX, INT32_MIN } from './operands.js';

/**
 * Numbers meeting int32 tensors: exact, or refused. A fraction would be truncated silently, so every op refuses
 * it and asks for a cast; integers outside the int32 range wrap where the arithmetic wraps (add/sub/mul, as
 * PyTorch) and are refused where they would become an int32 tensor.
 */

/**
 * An int32 tensor combines only with an integer (a fraction would be truncated silently; cast first), held in the
 * int32 range where the number becomes an int32 tensor (comparisons, maximum, where, div). add/sub/mul take any
 * integer and wrap modulo 2^32, as PyTorch does (int32 + 2^31 = int32 - 2^31).
 */
export function intOperand(op: string, x: Tensor, v: number, wraps = false): void {
  if (x.dtype !== 'int32') return;
  if (!Number.isInteger(v) || (!wraps && (v < INT32_MIN || v > INT32_MAX))) {
    const what = wraps ? 'an integer' : 'an integer in [-2^31, 2^31 - 1]';
    throw new WebrnnError(
      op,
      `an int32 tensor can only be combined with ${what}, got ${v}; cast it to a float dtype first`,
    );
  }
}

/**
 * int32 clamps to integer bounds or +-Infinity (the defaults); bounds past the int32 range are cut to it by the
 * backends, which is exact as long as [min, max] holds some int32 value.
 */
export function intBounds(op: string, min: number, max: number): void {
  const bound = (v: number) => Number.isInteger(v) || Math.abs(v) === Number.POSITIVE_INFINITY;
  if (!bound(min) || !bound(max)) {
    throw new WebrnnError(
      op,
      `an int32 tensor needs integer (or infinite) bounds, got min ${min} and max ${max}; cast it to a float dtype first`,
    );
  }
  if (max < INT32_MIN || min > INT32_MAX) {
    throw new WebrnnError(
      op,
      `bounds [${min}, ${max}] hold no int32 value (expected an interval meeting [-2^31, 2^31 - 1])`,
    );
  }
}
