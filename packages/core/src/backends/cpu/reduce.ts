import type { TypedArray } from '../../dtype.js';
import type { ReduceOpName, View } from '../backend.js';
import { reduceWasmRun } from './wasm/reduceWasm.js';

/**
 * Reductions: the kept dims are walked in order (they match `out`, which is contiguous), and for each output
 * element the reduced dims are walked with an odometer. Sums accumulate in float64 whatever the dtype.
 */
export function reduceCpu(op: ReduceOpName, x: View, axes: readonly number[], out: View): void {
  // float32 rows of a contiguous view (the innermost axes reduced), from a measured size: wasm SIMD.
  if (reduceWasmRun(op, x, axes, out)) return;
  const X = x.buffer as TypedArray;
  const O = out.buffer as TypedArray;
  const kept: number[] = [];
  const red: number[] = [];
  for (let d = 0; d < x.shape.length; d++) (axes.includes(d) ? red : kept).push(d);
  const redShape = red.map((d) => x.shape[d]!);
  const redStrides = red.map((d) => x.strides[d]!);
  const keptShape = kept.map((d) => x.shape[d]!);
  const keptStrides = kept.map((d) => x.strides[d]!);
  let nOut = 1;
  for (const s of keptShape) nOut *= s;
  let nRed = 1;
  for (const s of redShape) nRed *= s;
  const rr = red.length;
  const innerLen = rr === 0 ? 1 : redShape[rr - 1]!;
  const innerStride = rr === 0 ? 0 : redStrides[rr - 1]!;
  const outer = innerLen === 0 ? 0 : nRed / innerLen;
  const ridx = new Int32Array(Math.max(rr - 1, 1));
  const kidx = new Int32Array(Math.max(kept.length, 1));
  let base = x.offset;
  for (let o = 0; o < nOut; o++) {
    let acc = op === 'sum' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
    let best = 0;
    let count = 0;
    let p = base;
    ridx.fill(0);
    for (let q = 0; q < outer; q++) {
      if (op === 'sum') {
        for (let j = 0; j < innerLen; j++) acc += X[p + j * innerStride]!;
      } else if (op === 'max' || op === 'argmax') {
        for (let j = 0; j < innerLen; j++) {
          const v = X[p + j * innerStride]!;
          // NaN wins, as in PyTorch: a NaN anywhere makes the max NaN.
          if (v > acc || (v !== v && acc === acc)) {
            acc = v;
            best = count + j;
          }
        }
      } else {
        for (let j = 0; j < innerLen; j++) {
          const v = X[p + j * innerStride]!;
          if (v < acc || (v !== v && acc === acc)) {
            acc = v;
            best = count + j;
          }
        }
      }
      count += innerLen;
      for (let d = rr - 2; d >= 0; d--) {
        p += redStrides[d]!;
        if (++ridx[d]! < redShape[d]!) break;
        p -= redStrides[d]! * redShape[d]!;
        ridx[d] = 0;
      }
    }
    O[out.offset + o] = op === 'argmax' || op === 'argmin' ? best : acc;
    for (let d = kept.length - 1; d >= 0; d--) {
      base += keptStrides[d]!;
      if (++kidx[d]! < keptShape[d]!) break;
      base -= keptStrides[d]! * keptShape[d]!;
      kidx[d] = 0;
    }
  }
}
