import { type Kernel, type ScalarType, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { withNumerics } from './numerics.js';
import { alias, declare, entry1d } from './wgsl.js';

/**
 * Reductions over any set of axes of a strided view (sum, max, min, argmax, argmin; arg ops keep the first index
 * of the extreme, like the CPU). As in PyTorch, a NaN is the extreme of both max and min: the result is NaN and
 * the index that of the first NaN (tested on the bits: WGSL may assume no NaN). Two launch shapes, picked by the
 * runtime from the sizes:
 * - 'thread': one thread per output element walks its reduced elements (many outputs, short reductions);
 * - 'group': one workgroup per output element, each thread striding over the reduced elements, then a tree
 *   reduction in workgroup memory (few outputs, long reductions, e.g. a full sum).
 */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

export interface ReduceSpec extends Spec {
  readonly kind: 'reduce';
  /** max and min share a kernel, as do argmax and argmin: the direction is a uniform. */
  readonly op: 'sum' | 'extreme' | 'argextreme';
  readonly type: ScalarType;
  /**
   * Whether the reduced dims merged into one (the common case, walked with one multiply per element); otherwise
   * a loop walks up to MAX_RANK reduced dims per element. Kept dims are walked once per output by such a loop. Ranks
   * are uniforms rather than specialisations because CPU drivers compile each variant for a noticeable time.
   */
  readonly flat: boolean;
  readonly mode: 'thread' | 'group';
}

/** Threads per output in 'group' mode. */
export const REDUCE_GROUP = 64;

/** Separate (unmergeable) dims the kernel walks on each side, kept and reduced. */
export const MAX_RANK = 8;

export const reduceSpecOp = (op: ReduceOp): ReduceSpec['op'] =>
  op === 'sum' ? 'sum' : op === 'max' || op === 'min' ? 'extreme' : 'argextreme';

export function reduceValues(
  op: ReduceOp,
  x: { offset: number },
  outOffset: number,
  kept: { shape: readonly number[]; strides: readonly number[] },
  red: { shape: readonly number[]; strides: readonly number[] },
): Record<string, number | readonly number[]> {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const pad = (v: readonly number[]) => [...v, ...Array(MAX_RANK - v.length).fill(0)];
  if (kept.shape.length > MAX_RANK || red.shape.length > MAX_RANK) {
    throw new Error(`reduce walks at most ${MAX_RANK} separate dims`);
  }
  return {
    nOut: size(kept.shape),
    nRed: size(red.shape),
    greater: op === 'max' || op === 'argmax' ? 1 : 0,
    xOffset: x.offset,
    outOffset,
    keptRank: kept.shape.length,
    keptShape: pad(kept.shape),
    keptStrides: pad(kept.strides),
    redRank: red.shape.length,
    redShape: pad(red.shape),
    redStrides: pad(red.strides),
  };
}

export function reduceKernel(spec: ReduceSpec): Kernel {
  return defineKernel(spec, emit);
}

function emit(s: ReduceSpec) {
  const U = new Uniforms({
    nOut: 1,
    nRed: 1,
    greater: 1,
    xOffset: 1,
    outOffset: 1,
    keptRank: 1,
    keptShape: MAX_RANK,
    keptStrides: MAX_RANK,
    redRank: 1,
    redShape: MAX_RANK,
    redStrides: MAX_RANK,
  });
  const isArg = s.op === 'argextreme';
  const { code, bindings } = declare(
    [
      { name: 'dst', type: isArg ? 'i32' : 'T', write: true },
      { name: 'src', type: 'T' },
    ],
    U,
  );
  const float = s.type === 'f32';
  const init =
    s.op === 'sum'
      ? 'T(0)'
      : float
        ? 'select(ieeeInf(), -ieeeInf(), greater)'
        : 'select(2147483647, -2147483647 - 1, greater)';
  // Whether value v at index i replaces (best, bestIndex): strictly better, or equal with a smaller index; a NaN
  // beats every number, and among NaNs the smaller index wins.
  const better = `fn better(v: T, i: i32, best: T, bestIndex: i32, greater: bool) -> bool {${
    float
      ? `
  if (ieeeIsNan(v) || ieeeIsNan(best)) { return ieeeIsNan(v) && (!ieeeIsNan(best) || i < bestIndex); }`
      : ''
  }
  return select((v < best), (v > best), greater) || (v == best && i < bestIndex);
}`;
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent where `better` lands in a sum kernel, an unused function (the sum's accumulate never calls it); '' replaced by text fails the tests (killed before marking)
  const helpers = s.op === 'sum' ? '' : `\n${better}\n`;
  // Offset of flat index `index` over the dims `dims` (a loop over the rank in the uniforms).
  const offsetOf = (target: string, start: string, index: string, dims: string) => `var ${target} = ${start};
  {
    var rest = ${index};
    for (var d = ${U.at(`${dims}Rank`)} - 1; d >= 0; d--) {
      let size = u32(${U.atDynamic(`${dims}Shape`, 'd')});
      ${target} += i32(rest % size) * ${U.atDynamic(`${dims}Strides`, 'd')};
      rest = rest / size;
    }
  }`;
  const kept = `  ${offsetOf('base', U.at('xOffset'), 'outIndex', 'kept')}`;
  const element = s.flat
    ? `    let p = base + i32(k) * ${U.at('redStrides')};`
    : `    ${offsetOf('p', 'base', 'k', 'red')}`;
  const accumulate =
    s.op === 'sum'
      ? '    best += v;'
      : '    if (better(v, i32(k), best, bestIndex, greater)) { best = v; bestIndex = i32(k); }';
  const scan = (start: string, step: string) => `  let greater = ${U.at('greater')} != 0;
  var best = ${init};
  var bestIndex = 2147483647;
  for (var k = ${start}; k < ${U.u('nRed')}; k += ${step}) {
${element}
    let v = src[p];
${accumulate}
  }`;
  const result = isArg ? 'bestIndex' : 'best';
  const store = `dst[u32(${U.at('outOffset')}) + outIndex] = ${result};`;
  // Stryker disable next-line ConditionalExpression: equivalent in results: the thread kernel under a 'group' launch (a workgroup per output) still has a thread per output (more idle ones); only speed differs
  if (s.mode === 'thread') {
    const body = `  if (tid >= ${U.u('nOut')}) { return; }
  let outIndex = tid;
${kept}
${scan('0u', '1u')}
  ${store}`;
    return {
      code: withNumerics(`${alias(s.type)}\n${code}\n${helpers}\n${entry1d(body)}\n`),
      workgroupSize: [256, 1, 1] as const,
      bindings,
      uniforms: U,
    };
  }
  const G = REDUCE_GROUP;
  const combine =
    s.op === 'sum'
      ? 'best += sv[lid + s];'
      : '{ let v = sv[lid + s]; let i = si[lid + s]; if (better(v, i, best, bestIndex, greater)) { best = v; bestIndex = i; } }';
  const groupCode = `${alias(s.type)}
${code}
${helpers}
var<workgroup> sv: array<T, ${G}>;
var<workgroup> si: array<i32, ${G}>;

@compute @workgroup_size(${G})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let outIndex = wid.x + wid.y * nwg.x;
  if (outIndex >= ${U.u('nOut')}) { return; }
${kept}
${scan('lid', `${G}u`)}
  sv[lid] = best;
  si[lid] = bestIndex;
  for (var s = ${G / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      ${combine}
      sv[lid] = best;
      si[lid] = bestIndex;
    }
  }
  if (lid == 0u) { ${store} }
}
`;
  return { code: withNumerics(groupCode), workgroupSize: [G, 1, 1] as const, bindings, uniforms: U };
}
