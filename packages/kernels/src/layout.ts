/**
 * Launch geometry shared by the strided kernels: merging dims that every operand walks contiguously (and dropping
 * size-1 dims) turns most launches into rank 1 or 2, which makes the index walk cheaper and keeps the number of
 * compiled variants small (a kernel is specialised on rank).
 */
export interface Coalesced {
  readonly shape: number[];
  /** strides[k] are operand k's strides over `shape`. */
  readonly strides: number[][];
}

export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d]!;
    if (s === 1) continue;
    const last = outShape.length - 1;
    // Dim d folds into the dim before it when, for every operand, stepping the previous dim once equals
    // stepping d across its whole extent.
    // Stryker disable next-line ConditionalExpression: with no dim before (last = -1) the lookup is undefined, which never equals a stride.
    if (last >= 0 && strides.every((st, k) => outStrides[k]![last] === st[d]! * s)) {
      outShape[last] = outShape[last]! * s;
      strides.forEach((st, k) => {
        outStrides[k]![last] = st[d]!;
      });
    } else {
      outShape.push(s);
      strides.forEach((st, k) => outStrides[k]!.push(st[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
