import { type Kernel, type ScalarType, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { CHECK_FIELD, raiseFn, statusStorage } from './status.js';
import { alias, declare, entry1d, lines, walk } from './wgsl.js';

/**
 * gather and scatterAdd along `axis` (PyTorch semantics). Index values are checked: an index < 0 or >= the axis
 * size raises a device-side error (status.ts) with its position in the index as the user passed it, and nothing
 * goes through it: gather writes NaN (0 for i32) for that element, scatterAdd skips it. The position is the
 * row-major flat position in the index, or (indexSelect, whose 1-D index the kernel sees spread over the other
 * dims) the coordinate along `axis`: both are (flat / posDiv) % posMod, two uniforms instead of a stride per dim.
 *
 * scatterAdd has two methods, both exact with repeated indices; the runtime picks the cheaper:
 * - 'loop': one thread per destination element sums every source entry whose index points at it: no atomics and a
 *   deterministic order, but each thread scans index.shape[axis] entries, so it suits small target axes;
 * - 'atomic': one thread per source element adds into its target with a compare-and-swap loop on the float's bits
 *   (WGSL has no float atomics; i32 uses atomicAdd): cost proportional to the source, for embedding-sized axes.
 *   Float sums then depend on the order the adds land in (last-bit differences between runs).
 *
 * Strides arrive with the `axis` entry split out (the host zeroes it in the per-dim arrays), so the index walk is
 * the shared one.
 */
export interface GatherSpec extends Spec {
  readonly kind: 'gather' | 'scatterAdd';
  readonly type: ScalarType;
  readonly rank: number;
  readonly method?: 'loop' | 'atomic';
}

function uniforms(rank: number) {
  return new Uniforms({
    n: 1,
    axis: 1,
    axisSize: 1,
    len: 1,
    shape: rank,
    limit: rank,
    dstOffset: 1,
    dstStrides: rank,
    dstAxisStride: 1,
    idxOffset: 1,
    idxStrides: rank,
    idxAxisStride: 1,
    srcOffset: 1,
    srcStrides: rank,
    srcAxisStride: 1,
    posDiv: 1,
    posMod: 1,
    [CHECK_FIELD]: 1,
  });
}

export interface GatherOperand {
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * Launch values. `shape` is what the threads walk (the index's shape, or the destination's for the 'loop'
 * scatter), `limit` the index's extent per dim (the loop scatter skips destinations the index does not cover),
 * `alongAxis` reports an index's coordinate along `axis` instead of its flat position. The runtime adds the
 * `check` field (status.ts).
 */
export function gatherValues(
  axis: number,
  shape: readonly number[],
  limit: readonly number[],
  axisSize: number,
  dst: GatherOperand,
  idx: GatherOperand,
  src: GatherOperand,
  alongAxis: boolean,
): Record<string, number | readonly number[]> {
  const split = (v: GatherOperand) => v.strides.map((s, d) => (d === axis ? 0 : s));
  return {
    n: shape.reduce((a, b) => a * b, 1),
    axis,
    axisSize,
    len: limit[axis]!,
    shape,
    limit,
    dstOffset: dst.offset,
    dstStrides: split(dst),
    dstAxisStride: dst.strides[axis]!,
    idxOffset: idx.offset,
    idxStrides: split(idx),
    idxAxisStride: idx.strides[axis]!,
    srcOffset: src.offset,
    srcStrides: split(src),
    srcAxisStride: src.strides[axis]!,
    posDiv: alongAxis ? limit.slice(axis + 1).reduce((a, b) => a * b, 1) : 1,
    posMod: Math.max(1, alongAxis ? limit[axis]! : limit.reduce((a, b) => a * b, 1)),
  };
}

/** gather (spec.kind 'gather') and scatterAdd (spec.kind 'scatterAdd'). */
export function gatherKernel(spec: GatherSpec): Kernel {
  return defineKernel(spec, emit);
}

function emit(s: GatherSpec) {
  const U = uniforms(s.rank);
  // Stryker disable next-line ConditionalExpression: equivalent for `true && ...`: only scatterAdd's launch sets `method` (gather's spec never has one); the line's other replacements fail the tests (killed before marking)
  const atomic = s.kind === 'scatterAdd' && s.method === 'atomic';
  const dstType = atomic ? (s.type === 'f32' ? 'atomic<u32>' : 'atomic<i32>') : 'T';
  const { code, bindings } = declare(
    [
      { name: 'dst', type: dstType, write: true },
      { name: 'src', type: 'T' },
      { name: 'idx', type: 'i32' },
      statusStorage,
    ],
    U,
  );
  const operand = (name: string, field: string) => ({
    offset: name,
    base: U.at(`${field}Offset`),
    stride: (d: number) => U.at(`${field}Strides`, d),
  });
  // Operands walked over their full shape add the split-out axis stride back along `axis`.
  const full = (name: string, field: string) => ({
    ...operand(name, field),
    stride: (d: number) =>
      `(${U.at(`${field}Strides`, d)} + select(0, ${U.at(`${field}AxisStride`)}, ${U.at('axis')} == ${d}))`,
  });
  // The position an error reports, from the flat position in the index.
  const position = (flat: string) => `i32((${flat} / ${U.u('posDiv')}) % ${U.u('posMod')})`;
  const n = U.at('axisSize');
  let body: string;
  if (s.kind === 'gather') {
    // Threads walk the index shape (= the dense output's); src is the tensor gathered from.
    // A NaN constant is a WGSL compile error: the bits go through a variable, so the bitcast happens at run time.
    const bad = s.type === 'f32' ? 'bitcast<f32>(nanBits)' : '0';
    body = `${walk('tid', s.rank, (d) => U.u('shape', d), [full('pi', 'idx'), operand('ps', 'src')])}
  let o = ${U.u('dstOffset')} + tid;
  let j = idx[pi];
  if (j < 0 || j >= ${n}) {
    raise(j, ${position('tid')}, ${n});
    var nanBits = 0x7fc00000u;
    dst[o] = ${bad};
    return;
  }
  dst[o] = src[ps + j * ${U.at('srcAxisStride')}];`;
  } else if (atomic) {
    // Threads walk the index (= source) shape and add into their target.
    const add =
      s.type === 'f32'
        ? `var old = atomicLoad(&dst[t]);
  loop {
    let r = atomicCompareExchangeWeak(&dst[t], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
        : 'atomicAdd(&dst[t], v);';
    body = `${walk('tid', s.rank, (d) => U.u('shape', d), [operand('po', 'dst'), full('pi', 'idx'), full('ps', 'src')])}
  let j = idx[pi];
  if (j < 0 || j >= ${n}) {
    raise(j, ${position('tid')}, ${n});
    return;
  }
  let t = po + j * ${U.at('dstAxisStride')};
  let v = src[ps];
  ${add}`;
  } else {
    // Threads walk the destination; per dim, its coordinate must lie inside the index's extent, and along `axis`
    // it is the index value to look for. `pp` + q * `axisMul` is the flat position of index entry q in the index.
    const coords = lines(
      Array.from({ length: s.rank }, (_, i) => s.rank - 1 - i).map(
        (d) => `  { let c = i32(rem % ${U.u('shape', d)}); rem = rem / ${U.u('shape', d)};
    po += c * ${U.at('dstStrides', d)} + select(0, c * ${U.at('dstAxisStride')}, ${d} == axis);
    if (${d} == axis) { wanted = c; axisMul = m; } else {
      inside = inside && c < ${U.at('limit', d)};
      pi += c * ${U.at('idxStrides', d)};
      ps += c * ${U.at('srcStrides', d)};
      pp += u32(c) * m;
    }
    m *= ${U.u('limit', d)}; }`,
      ),
    );
    body = `  let axis = ${U.at('axis')};
  var rem = tid;
  var po = ${U.at('dstOffset')};
  var pi = ${U.at('idxOffset')};
  var ps = ${U.at('srcOffset')};
  var pp = 0u;
  var m = 1u;
  var axisMul = 1u;
  var wanted = 0;
  var inside = true;
${coords}
  if (!inside) { return; }
  var acc = dst[po];
  for (var q = 0; q < ${U.at('len')}; q++) {
    let j = idx[pi + q * ${U.at('idxAxisStride')}];
    if (j < 0 || j >= ${n}) {
      raise(j, ${position('pp + u32(q) * axisMul')}, ${n});
    } else if (j == wanted) {
      acc += src[ps + q * ${U.at('srcAxisStride')}];
    }
  }
  dst[po] = acc;`;
  }
  return {
    code: `${alias(s.type)}\n${code}\n\n${raiseFn(U.at(CHECK_FIELD))}\n\n${entry1d(`  if (tid >= ${U.u('n')}) { return; }\n${body}`)}\n`,
    workgroupSize: [256, 1, 1] as const,
    bindings,
    uniforms: U,
  };
}
