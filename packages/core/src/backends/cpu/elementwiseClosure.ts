import type { TypedArray } from '../../dtype.js';
import { formulaClosure } from './formulaClosure.js';

/**
 * The elementwise loop of elementwise.ts for pages that forbid `new Function` (a strict Content-Security-Policy):
 * the same arguments and the same walk (flat when contiguous, else an odometer over the outer dims), calling the
 * formula's closure per element. Several times slower than the compiled loop, and only used where that one cannot be.
 */
type Kernel = (...args: unknown[]) => void;

export function closureKernel(expr: string, names: readonly string[]): Kernel {
  const f = formulaClosure(expr, [...names, 'p0', 'p1']);
  const k = names.length;
  return (...args: unknown[]) => {
    const [out, outOffset, outStrides, shape, p0, p1, contig] = args as [
      TypedArray,
      number,
      readonly number[],
      readonly number[],
      number,
      number,
      boolean,
    ];
    const data = [] as TypedArray[];
    const offsets = [] as number[];
    const strides = [] as (readonly number[])[];
    for (let i = 0; i < k; i++) {
      data.push(args[7 + 3 * i] as TypedArray);
      offsets.push(args[8 + 3 * i] as number);
      strides.push(args[9 + 3 * i] as readonly number[]);
    }
    const v = new Array<number>(k + 2).fill(0);
    v[k] = p0;
    v[k + 1] = p1;
    const r = shape.length;
    let n = 1;
    for (let d = 0; d < r; d++) n *= shape[d]!;
    if (n === 0) return;
    if (contig) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) v[j] = data[j]![offsets[j]! + i]!;
        out[outOffset + i] = f(v);
      }
      return;
    }
    const pos = offsets.slice();
    let outPos = outOffset;
    const idx = new Array<number>(r).fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) v[j] = data[j]![pos[j]!]!;
      out[outPos] = f(v);
      // Odometer: advance the last dim, carrying into earlier ones.
      for (let d = r - 1; d >= 0; d--) {
        for (let j = 0; j < k; j++) pos[j]! += strides[j]![d]!;
        outPos += outStrides[d]!;
        if (++idx[d]! < shape[d]!) break;
        for (let j = 0; j < k; j++) pos[j]! -= strides[j]![d]! * shape[d]!;
        outPos -= outStrides[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  };
}
