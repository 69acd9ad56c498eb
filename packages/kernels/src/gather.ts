import { ENTRY_1D, THREAD_INDEX, binding, metaBinding } from './emit.js';
import { type Kernel, type ScalarType, kernel } from './spec.js';

/**
 * gather: one thread per output element reads x at the same coordinates with coordinate `axis` replaced by the
 * index value. scatterAdd: one thread per element of the destination sums every source entry whose index along
 * `axis` points at it, so repeated indices accumulate without atomics (WGSL has no float atomics) and the result
 * does not depend on thread order. Index values are clamped into range: a bad index never touches memory outside
 * the buffer (the ops validate indices where they can read them).
 *
 * gather meta  = [n, rank, axis, axisSize, xOff, outOff(unused 0), idxOff, shape[r], xStrides[r], idxStrides[r]]
 *   (shape = index/output shape; output dense)
 * scatter meta = [n, rank, axis, axisSize, outOff, srcOff, idxOff, outShape[r], outStrides[r], idxShape[r],
 *                 idxStrides[r], srcStrides[r]]
 */
export interface GatherSpec {
  readonly kind: 'gather' | 'scatterAdd';
  readonly type: ScalarType;
  readonly rank: number;
}

export function gatherKernel(type: ScalarType, rank: number): Kernel {
  return kernel({ kind: 'gather', type, rank } as GatherSpec, (s) => {
    const r = s.rank;
    const walk = Array.from({ length: r }, (_, i) => r - 1 - i)
      .map(
        (d) => `  { let sz = u32(info[${7 + d}]); let c = i32(rem % sz); rem = rem / sz;
    pi += c * info[${7 + 2 * r + d}];
    if (${d}u != axis) { px += c * info[${7 + r + d}]; } }`,
      )
      .join('\n');
    return {
      code: `${binding(0, 'dst', s.type, true)}
${binding(1, 'src', s.type, false)}
${binding(2, 'idx', 'i32', false)}
${metaBinding(3)}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let n = u32(info[0]);
  if (tid >= n) { return; }
  let axis = u32(info[2]);
  var rem = tid;
  var px = info[4];
  var pi = info[6];
${walk}
  let i = clamp(idx[pi], 0, info[3] - 1);
  dst[tid] = src[px + i * info[${7 + r} + i32(axis)]];
}
`,
      workgroupSize: [256, 1, 1] as const,
    };
  });
}

export function scatterAddKernel(type: ScalarType, rank: number): Kernel {
  return kernel({ kind: 'scatterAdd', type, rank } as GatherSpec, (s) => {
    const r = s.rank;
    const OS = 7;
    const OST = OS + r;
    const IS = OST + r;
    const IST = IS + r;
    const SST = IST + r;
    const walk = Array.from({ length: r }, (_, i) => r - 1 - i)
      .map(
        (d) => `  { let sz = u32(info[${OS + d}]); let c = i32(rem % sz); rem = rem / sz;
    po += c * info[${OST + d}];
    if (${d}u == axis) { wanted = c; } else {
      if (c >= info[${IS + d}]) { inside = false; }
      pi += c * info[${IST + d}]; ps += c * info[${SST + d}];
    } }`,
      )
      .join('\n');
    return {
      code: `${binding(0, 'dst', s.type, true)}
${binding(1, 'src', s.type, false)}
${binding(2, 'idx', 'i32', false)}
${metaBinding(3)}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let n = u32(info[0]);
  if (tid >= n) { return; }
  let axis = u32(info[2]);
  var rem = tid;
  var po = info[4];
  var ps = info[5];
  var pi = info[6];
  var wanted = 0;
  var inside = true;
${walk}
  if (!inside) { return; }
  var acc = dst[po];
  let len = info[${IS} + i32(axis)];
  let iStride = info[${IST} + i32(axis)];
  let sStride = info[${SST} + i32(axis)];
  for (var q = 0; q < len; q++) {
    if (clamp(idx[pi + q * iStride], 0, info[3] - 1) == wanted) { acc += src[ps + q * sStride]; }
  }
  dst[po] = acc;
}
`,
      workgroupSize: [256, 1, 1] as const,
    };
  });
}
