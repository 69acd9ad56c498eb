import { type Kernel, type ScalarType, type Spec, defineKernel } from './spec.js';
import { CHECK_FIELD, raiseFn, statusStorage } from './status.js';
import { Uniforms } from './uniforms.js';
import { withNumerics } from './numerics.js';
import { type StorageDecl, alias, declare, entry1d, lines, walk } from './wgsl.js';

/**
 * One kernel family for every elementwise op (unary, binary, where, copy with cast, fill): out = expr(inputs),
 * each operand a strided view of the same rank (broadcast inputs have stride 0; the runtime merges dims first, so
 * most launches are rank 1 or 2). `expr` is a formula in the output's element type `T` over the input names, the
 * f32 uniforms `p0`, `p1` (float clamp's bounds, affine's scale and shift, a float fill value) and the i32 uniforms
 * `q0`, `q1` (the same for int32, exact beyond 2^24, wrapping as two's complement), and may call the `ieee*`
 * helpers of numerics.ts. An input that aliases the output (in-place updates) is read through `dst`, since WebGPU
 * forbids binding one buffer as both read-only and writable storage.
 */
export interface MapInput {
  readonly name: string;
  readonly type: ScalarType;
  readonly fromOut: boolean;
}

export interface MapSpec extends Spec {
  readonly kind: 'map';
  readonly expr: string;
  readonly out: ScalarType;
  readonly inputs: readonly MapInput[];
  readonly rank: number;
  /** An input that must not be 0 (an integer divisor): a 0 raises a device-side error (status.ts). */
  readonly check?: string;
}

export function mapUniforms(rank: number, inputs: number, check: boolean): Uniforms {
  const fields: Record<string, number> = { n: 1, p: 2, q: 2, shape: rank, outOffset: 1, outStrides: rank };
  if (check) fields[CHECK_FIELD] = 1;
  for (let k = 0; k < inputs; k++) {
    fields[`offset${k}`] = 1;
    fields[`strides${k}`] = rank;
  }
  return new Uniforms(fields, ['p']);
}

/** The values of a launch over `shape`, in the layout of `mapUniforms`. */
export function mapValues(
  shape: readonly number[],
  out: { offset: number; strides: readonly number[] },
  inputs: readonly { offset: number; strides: readonly number[] }[],
  p0 = 0,
  p1 = 0,
  q0 = 0,
  q1 = 0,
): Record<string, number | readonly number[]> {
  const v: Record<string, number | readonly number[]> = {
    n: shape.reduce((a, b) => a * b, 1),
    p: [p0, p1],
    q: [q0, q1],
    shape,
    outOffset: out.offset,
    outStrides: out.strides,
  };
  inputs.forEach((x, k) => {
    v[`offset${k}`] = x.offset;
    v[`strides${k}`] = x.strides;
  });
  return v;
}

export function mapKernel(spec: MapSpec): Kernel {
  return defineKernel(spec, (s) => {
    const U = mapUniforms(s.rank, s.inputs.length, s.check !== undefined);
    const storage: StorageDecl[] = [{ name: 'dst', type: s.out, write: true }];
    const source = s.inputs.map((inp, k) => {
      if (inp.fromOut) return 'dst';
      storage.push({ name: `src${k}`, type: inp.type });
      return `src${k}`;
    });
    if (s.check) storage.push(statusStorage);
    const { code, bindings } = declare(storage, U);
    let params = '';
    if (/\bp[01]\b/.test(s.expr))
      params += `  let p0 = T(${U.f32('p', 0)});\n  let p1 = T(${U.f32('p', 1)});\n`;
    if (/\bq[01]\b/.test(s.expr)) params += `  let q0 = ${U.at('q', 0)};\n  let q1 = ${U.at('q', 1)};\n`;
    const offsets = walk('tid', s.rank, (d) => U.u('shape', d), [
      { offset: 'o', base: U.at('outOffset'), stride: (d) => U.at('outStrides', d) },
      ...s.inputs.map((_, k) => ({
        offset: `o${k}`,
        base: U.at(`offset${k}`),
        stride: (d: number) => U.at(`strides${k}`, d),
      })),
    ]);
    const loads = lines(s.inputs.map((inp, k) => `  let ${inp.name} = ${source[k]}[o${k}];`));
    const guard = s.check ? `\n  if (${s.check} == T(0)) { raise(0, i32(tid), 0); }` : '';
    const body = `  if (tid >= ${U.u('n')}) { return; }
${params}${offsets}
${loads}${guard}
  dst[o] = ${s.out}(${s.expr});`;
    const raise = s.check ? `${raiseFn(U.at(CHECK_FIELD))}\n\n` : '';
    return {
      code: withNumerics(`${alias(s.out)}\n${code}\n\n${raise}${entry1d(body)}\n`),
      workgroupSize: [256, 1, 1],
      bindings,
      uniforms: U,
    };
  });
}
