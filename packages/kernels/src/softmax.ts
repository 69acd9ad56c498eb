import { type Kernel, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { withNumerics } from './numerics.js';
import { declare } from './wgsl.js';

/**
 * Row-wise softmax / log-softmax over dense rows, one workgroup per row: the threads stride over the row for its
 * max (so exp never overflows), then for the sum of exp(x - max), each combined by a tree in workgroup memory.
 * log-softmax is x - (max + log(sum)), never log(softmax), so it stays finite for very negative inputs.
 * Special values give PyTorch's answers, as the CPU: a NaN or +Inf in a row, or a row of -Inf only, makes the whole
 * row NaN (the max propagates NaN, and Inf - Inf is NaN); other -Inf entries give 0 (log: -Inf).
 */
export interface SoftmaxSpec extends Spec {
  readonly kind: 'softmax';
  readonly log: boolean;
}

export const SOFTMAX_GROUP = 64;

export function softmaxValues(
  rows: number,
  n: number,
  xOffset: number,
  outOffset: number,
): Record<string, number> {
  return { rows, n, xOffset, outOffset };
}

export function softmaxKernel(spec: SoftmaxSpec): Kernel {
  return defineKernel(spec, (s) => {
    const U = new Uniforms({ rows: 1, n: 1, xOffset: 1, outOffset: 1 });
    const G = SOFTMAX_GROUP;
    const { code, bindings } = declare(
      [
        { name: 'dst', type: 'f32', write: true },
        { name: 'src', type: 'f32' },
      ],
      U,
    );
    const tree = (name: string, combine: string) => `fn ${name}(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  for (var s = ${G / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { let a = red[lid]; let b = red[lid + s]; red[lid] = ${combine}; }
  }
  workgroupBarrier();
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
    const write = s.log
      ? `  let lse = m + ieeeLog(total);
  for (var j = lid; j < n; j += ${G}u) { dst[oo + j] = src[xo + j] - lse; }`
      : `  let inv = ieeeDiv(1.0, total);
  for (var j = lid; j < n; j += ${G}u) { dst[oo + j] = ieeeExp(src[xo + j] - m) * inv; }`;
    return {
      code: withNumerics(`${code}
var<workgroup> red: array<f32, ${G}>;

${tree('groupMax', 'ieeeMax(a, b)')}

${tree('groupSum', 'a + b')}

@compute @workgroup_size(${G})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= ${U.u('rows')}) { return; }
  let n = ${U.u('n')};
  let xo = ${U.u('xOffset')} + row * n;
  let oo = ${U.u('outOffset')} + row * n;
  var m = -ieeeInf();
  for (var j = lid; j < n; j += ${G}u) { m = ieeeMax(m, src[xo + j]); }
  m = groupMax(lid, m);
  var t = 0.0;
  for (var j = lid; j < n; j += ${G}u) { t += ieeeExp(src[xo + j] - m); }
  let total = groupSum(lid, t);
${write}
}
`),
      workgroupSize: [G, 1, 1],
      bindings,
      uniforms: U,
    };
  });
}
