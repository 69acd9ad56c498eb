import {
  BINARY_FORMULAS,
  FLOAT_TO_INT32,
  PARAM_UNARY_FORMULAS,
  UNARY_FORMULAS,
  coalesce,
  grid,
  intParams,
  mapKernel,
  mapValues,
  sizeOf,
  wgslFormula,
} from '@webrnn/kernels';
import type { DeviceCheck } from '../../errors.js';
import type { BinaryOpName, UnarySpec, View } from '../backend.js';
import { type Launcher, gpuOf, scalar } from './launcher.js';

/**
 * The elementwise family on WebGPU: one strided kernel per (formula, dtypes, rank after coalescing), the formulas
 * from kernels' formulas.ts. `p`: the f32 uniforms p0, p1 and the i32 uniforms q0, q1 (see kernels'
 * elementwise.ts).
 */
function mapGpu(
  l: Launcher,
  op: string,
  expr: string,
  inputs: readonly View[],
  out: View,
  names: readonly string[],
  p: readonly number[] = [0, 0, 0, 0],
  nonzero?: { name: string; check: DeviceCheck },
): void {
  const { shape, strides } = coalesce(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  const own = inputs.filter((v) => v.buffer !== out.buffer);
  l.launch(
    op,
    {
      kind: 'map',
      expr,
      out: scalar(out.dtype),
      rank: shape.length,
      inputs: inputs.map((v, i) => ({
        name: names[i]!,
        type: scalar(v.dtype),
        fromOut: v.buffer === out.buffer,
      })),
      ...(nonzero ? { check: nonzero.name } : {}),
    },
    mapKernel,
    [gpuOf(out), ...own.map(gpuOf)],
    mapValues(
      shape,
      { offset: out.offset, strides: strides[0]! },
      inputs.map((v, i) => ({ offset: v.offset, strides: strides[i + 1]! })),
      p[0],
      p[1],
      p[2],
      p[3],
    ),
    grid(sizeOf(shape)),
    nonzero?.check,
  );
}

export function unaryGpu(l: Launcher, spec: UnarySpec, x: View, out: View): void {
  const int = out.dtype === 'int32';
  if (spec.op === 'clamp' || spec.op === 'affine') {
    const [p0 = 0, p1 = 0] = spec.params ?? [];
    // int32 runs in i32, on the i32 uniforms q0, q1.
    const p = int ? [0, 0, ...intParams(spec.op, [p0, p1])] : [p0, p1, 0, 0];
    mapGpu(l, spec.op, wgslFormula(PARAM_UNARY_FORMULAS[spec.op], int), [x], out, ['x'], p);
  } else mapGpu(l, spec.op, wgslFormula(UNARY_FORMULAS[spec.op], int), [x], out, ['x']);
}

export function binaryGpu(l: Launcher, op: BinaryOpName, a: View, b: View, out: View): void {
  // WGSL defines an integer division by zero (as the dividend); PyTorch raises, and so do we, at the next read.
  const nonzero =
    op === 'div' && b.dtype === 'int32'
      ? { name: 'b', check: { kind: 'divisor' as const, op: 'div' } }
      : undefined;
  mapGpu(
    l,
    op,
    wgslFormula(BINARY_FORMULAS[op], out.dtype === 'int32'),
    [a, b],
    out,
    ['a', 'b'],
    undefined,
    nonzero,
  );
}

export function whereGpu(l: Launcher, cond: View, a: View, b: View, out: View): void {
  // A NaN condition is true (not 0), as on the CPU.
  const test = cond.dtype === 'int32' ? 'c != 0' : '(c != 0.0 || ieeeIsNan(c))';
  mapGpu(l, 'where', `select(b, a, ${test})`, [cond, a, b], out, ['c', 'a', 'b']);
}

export function copyGpu(l: Launcher, x: View, out: View): void {
  const cast = out.dtype === 'int32' && x.dtype !== 'int32';
  mapGpu(l, 'copy', cast ? FLOAT_TO_INT32.wgsl : 'x', [x], out, ['x']);
}

export function fillGpu(l: Launcher, out: View, value: number): void {
  mapGpu(l, 'fill', out.dtype === 'int32' ? 'q0' : 'p0', [], out, [], [value, 0, value | 0, 0]);
}
