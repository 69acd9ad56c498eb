import { ENTRY_1D, THREAD_INDEX, binding, metaBinding } from './emit.js';
import { type Kernel, type ScalarType, kernel } from './spec.js';

/**
 * One kernel family for every elementwise op (unary, binary, where, copy/cast, fill): out = expr(inputs), every
 * operand a strided view of any rank (broadcast inputs have stride 0). `expr` is a formula over the input names
 * (x; a, b; c, a, b) in the output's element type `T`, with scalar parameters p0 and p1.
 *
 * meta = [n, p0 bits, p1 bits, shape[rank], out offset, out strides[rank], per input: offset, strides[rank]]
 */
export interface ElementwiseSpec {
  readonly kind: 'elementwise';
  readonly expr: string;
  readonly rank: number;
  readonly out: ScalarType;
  readonly inputs: readonly {
    readonly name: string;
    readonly type: ScalarType;
    readonly aliasOut: boolean;
  }[];
}

export function elementwiseKernel(spec: Omit<ElementwiseSpec, 'kind'>): Kernel {
  return kernel({ kind: 'elementwise', ...spec } as ElementwiseSpec, emit);
}

/** meta for a launch: the layout above. */
export function elementwiseMeta(
  shape: readonly number[],
  out: { offset: number; strides: readonly number[] },
  inputs: readonly { offset: number; strides: readonly number[] }[],
  p0 = 0,
  p1 = 0,
): Int32Array {
  const f = new Float32Array([p0, p1]);
  const bits = new Int32Array(f.buffer);
  const n = shape.reduce((a, b) => a * b, 1);
  return Int32Array.from([
    n,
    bits[0]!,
    bits[1]!,
    ...shape,
    out.offset,
    ...out.strides,
    ...inputs.flatMap((v) => [v.offset, ...v.strides]),
  ]);
}

function emit(s: ElementwiseSpec) {
  const R = s.rank;
  const outBase = 3 + R;
  const inBase = (k: number) => outBase + (1 + R) * (k + 1);
  const decls = [binding(0, 'dst', s.out, true)];
  s.inputs.forEach((inp, k) => {
    if (!inp.aliasOut) decls.push(binding(k + 1, `src${k}`, inp.type, false));
  });
  decls.push(metaBinding(5));
  const walk: string[] = [];
  for (let d = R - 1; d >= 0; d--) {
    walk.push(`  { let s = u32(info[${3 + d}]); let c = i32(rem % s); rem = rem / s;`);
    walk.push(`    o_out += c * info[${outBase + 1 + d}];`);
    s.inputs.forEach((_, k) => walk.push(`    o${k} += c * info[${inBase(k) + 1 + d}];`));
    walk.push('  }');
  }
  const loads = s.inputs.map((inp, k) => `  let ${inp.name} = ${inp.aliasOut ? 'dst' : `src${k}`}[o${k}];`);
  const code = `alias T = ${s.out};
${decls.join('\n')}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let n = u32(info[0]);
  if (tid >= n) { return; }
  let p0 = T(bitcast<f32>(info[1]));
  let p1 = T(bitcast<f32>(info[2]));
  var rem = tid;
  var o_out = info[${outBase}];
${s.inputs.map((_, k) => `  var o${k} = info[${inBase(k)}];`).join('\n')}
${walk.join('\n')}
${loads.join('\n')}
  dst[o_out] = T(${s.expr});
}
`;
  return { code, workgroupSize: [256, 1, 1] as const };
}
