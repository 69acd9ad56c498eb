import { ENTRY_1D, THREAD_INDEX, binding, metaBinding } from './emit.js';
import { type Kernel, type ScalarType, kernel } from './spec.js';

/**
 * Reductions: one thread per output element walks the reduced elements (any axes, any strides), accumulating in
 * f32 (sum) or tracking the extreme and its first index (max/min/argmax/argmin).
 *
 * meta = [nOut, nRed, x offset, kept rank K, reduced rank R, keptShape[K], keptStrides[K], redShape[R], redStrides[R]]
 */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

export interface ReduceSpec {
  readonly kind: 'reduce';
  readonly op: ReduceOp;
  readonly type: ScalarType;
  readonly kept: number;
  readonly reduced: number;
}

export function reduceKernel(spec: Omit<ReduceSpec, 'kind'>): Kernel {
  return kernel({ kind: 'reduce', ...spec } as ReduceSpec, emit);
}

export function reduceMeta(
  offset: number,
  kept: { shape: number[]; strides: number[] },
  red: { shape: number[]; strides: number[] },
): Int32Array {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return Int32Array.from([
    size(kept.shape),
    size(red.shape),
    offset,
    kept.shape.length,
    red.shape.length,
    ...kept.shape,
    ...kept.strides,
    ...red.shape,
    ...red.strides,
  ]);
}

function emit(s: ReduceSpec) {
  const K = s.kept;
  const R = s.reduced;
  const ks = 5;
  const kst = ks + K;
  const rs = kst + K;
  const rst = rs + R;
  const isArg = s.op === 'argmax' || s.op === 'argmin';
  const better = s.op === 'max' || s.op === 'argmax' ? 'v > best' : 'v < best';
  const init =
    s.op === 'sum'
      ? '0.0'
      : s.type === 'f32'
        ? better.includes('>')
          ? '-3.4e38'
          : '3.4e38'
        : better.includes('>')
          ? '-2147483647'
          : '2147483647';
  const outType = isArg ? 'i32' : s.type;
  const keptWalk = Array.from({ length: K }, (_, i) => K - 1 - i)
    .map(
      (d) => `  { let sz = u32(info[${ks + d}]); base += i32(rem % sz) * info[${kst + d}]; rem = rem / sz; }`,
    )
    .join('\n');
  const redWalk = Array.from({ length: R }, (_, i) => R - 1 - i)
    .map((d) => `    { let sz = u32(info[${rs + d}]); p += i32(r % sz) * info[${rst + d}]; r = r / sz; }`)
    .join('\n');
  const acc =
    s.op === 'sum' ? 'acc += f32(v);' : `if (${better} || k == 0u) { best = v; bestIndex = i32(k); }`;
  const code = `${binding(0, 'dst', outType, true)}
${binding(1, 'src', s.type, false)}
${metaBinding(2)}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let nOut = u32(info[0]);
  if (tid >= nOut) { return; }
  let nRed = u32(info[1]);
  var base = info[2];
  var rem = tid;
${keptWalk}
  var acc = 0.0;
  var best = ${s.type}(${init});
  var bestIndex = 0;
  for (var k = 0u; k < nRed; k++) {
    var p = base;
    var r = k;
${redWalk}
    let v = src[p];
    ${acc}
  }
  dst[tid] = ${s.op === 'sum' ? `${s.type}(acc)` : isArg ? 'bestIndex' : 'best'};
}
`;
  return { code, workgroupSize: [256, 1, 1] as const };
}
