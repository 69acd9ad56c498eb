import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';

// TEMPORARY naive reference; replaced by the blocked kernel.
export function matmulCpu(a: View, b: View, out: View): void {
  const A = a.buffer as TypedArray;
  const B = b.buffer as TypedArray;
  const O = out.buffer as TypedArray;
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = a.shape[r - 1]!;
  let batch = 1;
  for (let d = 0; d < r - 2; d++) batch *= out.shape[d]!;
  for (let bi = 0; bi < batch; bi++) {
    let ao = a.offset;
    let bo = b.offset;
    let rem = bi;
    for (let d = r - 3; d >= 0; d--) {
      const i = rem % out.shape[d]!;
      rem = Math.floor(rem / out.shape[d]!);
      ao += i * a.strides[d]!;
      bo += i * b.strides[d]!;
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++)
          s +=
            A[ao + i * a.strides[r - 2]! + k * a.strides[r - 1]!]! *
            B[bo + k * b.strides[r - 2]! + j * b.strides[r - 1]!]!;
        O[out.offset + bi * M * N + i * N + j] = s;
      }
  }
}
