import type { TypedArray } from '../../dtype.js';
import { type IndexCheck, indexError } from '../../errors.js';
import type { View } from '../backend.js';

/**
 * Every index value must lie in [0, n): checked before anything is written, with the message WebGPU gives at the
 * next read. Walking in row-major order finds the bad index of smallest position first (for indexSelect's
 * broadcast index too, since the coordinates before `axis` are 0 during the first sweep along it).
 */
function checkIndices(index: View, axis: number, n: number, check: IndexCheck): void {
  const I = index.buffer as Int32Array;
  const shape = index.shape;
  const r = shape.length;
  let size = 1;
  for (const s of shape) size *= s;
  const pos = new Int32Array(r);
  let pi = index.offset;
  for (let k = 0; k < size; k++) {
    const v = I[pi]!;
    if (v < 0 || v >= n) {
      const position = check.positionAlongAxis ? pos[axis]! : k;
      throw indexError(check, { value: v, position, extent: n });
    }
    for (let d = r - 1; d >= 0; d--) {
      pi += index.strides[d]!;
      if (++pos[d]! < shape[d]!) break;
      pi -= index.strides[d]! * shape[d]!;
      pos[d] = 0;
    }
  }
}

/**
 * gather and scatterAdd walk the same positions: every position of `index` (whose shape is `other`'s), paired with
 * the position in `x` that has the same coordinates except coordinate `axis`, replaced by the index value.
 * They differ only in the direction of the copy.
 */
function gatherOrScatter(x: View, index: View, axis: number, other: View, scatter: boolean): void {
  const X = x.buffer as TypedArray;
  const Y = other.buffer as TypedArray;
  const I = index.buffer as Int32Array;
  const shape = index.shape;
  const r = shape.length;
  let n = 1;
  for (const s of shape) n *= s;
  if (n === 0) return;
  const sa = x.strides[axis]!;
  const pos = new Int32Array(r);
  let pi = index.offset;
  let py = other.offset;
  let px = x.offset; // x offset with coordinate `axis` at 0
  for (let k = 0; k < n; k++) {
    const xp = px + I[pi]! * sa;
    if (scatter) X[xp] = X[xp]! + Y[py]!;
    else Y[py] = X[xp]!;
    for (let d = r - 1; d >= 0; d--) {
      pi += index.strides[d]!;
      py += other.strides[d]!;
      if (d !== axis) px += x.strides[d]!;
      if (++pos[d]! < shape[d]!) break;
      pi -= index.strides[d]! * shape[d]!;
      py -= other.strides[d]! * shape[d]!;
      if (d !== axis) px -= x.strides[d]! * shape[d]!;
      pos[d] = 0;
    }
  }
}

export function gatherCpu(x: View, index: View, axis: number, out: View, check: IndexCheck): void {
  checkIndices(index, axis, x.shape[axis]!, check);
  gatherOrScatter(x, index, axis, out, false);
}

export function scatterAddCpu(out: View, index: View, src: View, axis: number, check: IndexCheck): void {
  checkIndices(index, axis, out.shape[axis]!, check);
  gatherOrScatter(out, index, axis, src, true);
}
