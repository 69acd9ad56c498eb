import { ENTRY_1D, THREAD_INDEX, binding, metaBinding } from './emit.js';
import { type Kernel, kernel } from './spec.js';

/**
 * Row-wise softmax / log-softmax over dense rows: one thread per row, subtracting the row max so that exp never
 * overflows. meta = [rows, n, x offset]
 */
export interface SoftmaxSpec {
  readonly kind: 'softmax';
  readonly log: boolean;
}

export function softmaxKernel(log: boolean): Kernel {
  return kernel({ kind: 'softmax', log } as SoftmaxSpec, (s) => ({
    code: `${binding(0, 'dst', 'f32', true)}
${binding(1, 'src', 'f32', false)}
${metaBinding(2)}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let rows = u32(info[0]);
  if (tid >= rows) { return; }
  let n = u32(info[1]);
  let xo = u32(info[2]) + tid * n;
  let oo = tid * n;
  var m = -3.4e38;
  for (var j = 0u; j < n; j++) { m = max(m, src[xo + j]); }
  var total = 0.0;
  for (var j = 0u; j < n; j++) { total += exp(src[xo + j] - m); }
${
  s.log
    ? '  let lse = m + log(total);\n  for (var j = 0u; j < n; j++) { dst[oo + j] = src[xo + j] - lse; }'
    : '  let inv = 1.0 / total;\n  for (var j = 0u; j < n; j++) { dst[oo + j] = exp(src[xo + j] - m) * inv; }'
}
}
`,
    workgroupSize: [256, 1, 1] as const,
  }));
}
