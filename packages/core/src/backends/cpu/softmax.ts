import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';
import { softmaxWasmRun } from './wasm/softmaxWasm.js';

/**
 * Row-wise (last axis) softmax or log-softmax of a contiguous view, stable by subtracting the row max. Special
 * values as PyTorch: the max propagates NaN and Inf - Inf is NaN, so a NaN or +Inf in a row, or a row of -Inf
 * only, makes the whole row NaN; other -Inf entries give 0 (log-softmax: -Inf).
 */
export function softmaxCpu(x: View, out: View, log: boolean): void {
  const X = x.buffer as TypedArray;
  const O = out.buffer as TypedArray;
  const r = x.shape.length;
  const n = r === 0 ? 1 : x.shape[r - 1]!;
  let rows = 1;
  for (let d = 0; d < r - 1; d++) rows *= x.shape[d]!;
  if (n === 0) return;
  // float32 rows of enough elements run in wasm SIMD (wasm/softmaxWasm.ts), where that was measured faster.
  if (softmaxWasmRun(x, out, log, rows, n)) return;
  for (let row = 0; row < rows; row++) {
    const xi = x.offset + row * n;
    const oi = out.offset + row * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) {
      const v = X[xi + j]!;
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(X[xi + j]! - m);
    if (log) {
      const lse = m + Math.log(s);
      for (let j = 0; j < n; j++) O[oi + j] = X[xi + j]! - lse;
    } else {
      const inv = 1 / s;
      for (let j = 0; j < n; j++) O[oi + j] = Math.exp(X[xi + j]! - m) * inv;
    }
  }
}
