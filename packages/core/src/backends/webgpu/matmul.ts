import {
  type FieldValues,
  MATMUL_TILE,
  type MatmulOperand,
  type MatmulSpec,
  SUBGROUPS_PER_WORKGROUP,
  SUBGROUP_ROW_BLOCKS,
  coalesce,
  matmulKernel,
  matmulValues,
  sizeOf,
} from '@webrnn/kernels';
import { contiguousStrides } from '../../shape.js';
import type { View } from '../backend.js';

export type MatmulVariant = 'auto' | 'tiled' | 'subgroup' | 'naive';

/**
 * Choosing and shaping a matmul launch. The subgroup kernel (see @webrnn/kernels matmulSubgroup.ts) serves float32
 * on adapters with subgroups of one fixed size; the tiled kernel serves everything else. 'auto' takes the subgroup
 * kernel only on software adapters, where it was measured (about twice the tiled one on lavapipe); on GPUs the
 * tiled one is the known quantity.
 */
export function matmulLaunch(
  a: View,
  b: View,
  out: View,
  variant: MatmulVariant,
  subgroupSize: number | null,
  software: boolean,
): { spec: MatmulSpec; build: typeof matmulKernel; values: FieldValues; groups: [number, number, number] } {
  const r = out.shape.length;
  const [M, N] = [out.shape[r - 2]!, out.shape[r - 1]!];
  const K = a.shape[r - 1]!;
  // Batch dims merge where all three walk them contiguously (C is dense), so z is one flat index.
  const batch = coalesce(out.shape.slice(0, r - 2), [
    a.strides.slice(0, r - 2),
    b.strides.slice(0, r - 2),
    contiguousStrides(out.shape.slice(0, r - 2)).map((s) => s * M * N),
  ]);
  const batchShape = r === 2 ? [] : batch.shape;
  const pick = (k: number) => (r === 2 ? [] : batch.strides[k]!);
  // The stride of a dim of size 1 never matters: zeroing it lets such operands count as contiguous.
  const operand = (v: View, rows: number, cols: number, k: number): MatmulOperand => ({
    offset: v.offset,
    row: rows === 1 ? 0 : v.strides[r - 2]!,
    col: cols === 1 ? 0 : v.strides[r - 1]!,
    batch: pick(k),
  });
  const A = operand(a, M, K, 0);
  const B = operand(b, K, N, 1);
  const type = a.dtype === 'int32' ? 'i32' : 'f32';
  const batchCount = sizeOf(batchShape);
  const base = { kind: 'matmul' as const, type } as const;
  // The subgroup kernel reads an operand as vec4s along its contiguous dim when the offset and the other strides
  // are multiples of 4 (a dim of size 1 counts as contiguous), and through its strides otherwise.
  const unit = (s: number) => s === 0 || s === 1;
  const aligned = (o: MatmulOperand, other: number) =>
    other % 4 === 0 && o.offset % 4 === 0 && o.batch.every((s) => s % 4 === 0);
  const aLoad = unit(A.col) && aligned(A, A.row) ? 'k4' : unit(A.row) && aligned(A, A.col) ? 'm4' : 'any';
  const bLoad = unit(B.col) && aligned(B, B.row) ? 'n4' : unit(B.row) && aligned(B, B.col) ? 'k4' : 'any';
  const subgroupOk = subgroupSize !== null && subgroupSize % 4 === 0 && type === 'f32';
  let chosen = variant;
  if (variant === 'auto') chosen = subgroupOk && software ? 'subgroup' : 'tiled';
  else if (variant === 'subgroup' && !subgroupOk) chosen = 'tiled';

  if (chosen === 'subgroup') {
    const S = subgroupSize!;
    const RB = SUBGROUP_ROW_BLOCKS;
    const R = S * RB;
    const G = SUBGROUPS_PER_WORKGROUP;
    // Arrange the workgroup's subgroups (G/gc rows of blocks by gc columns) to waste the least of C's edges.
    let best = { gc: 1, cost: Number.POSITIVE_INFINITY };
    for (let gc = 1; gc <= G; gc *= 2) {
      const bm = R * (G / gc);
      const bn = 4 * S * gc;
      const cost = Math.ceil(M / bm) * bm * Math.ceil(N / bn) * bn;
      if (cost < best.cost) best = { gc, cost };
    }
    const bm = R * (G / best.gc);
    const bn = 4 * S * best.gc;
    return {
      spec: { ...base, variant: 'subgroup', aLoad, bLoad, subgroupSize: S, rowBlocks: RB },
      build: matmulKernel,
      values: matmulValues(M, N, K, A, B, batchShape, out.offset, best.gc),
      groups: [Math.ceil(N / bn), Math.ceil(M / bm), batchCount],
    };
  }
  if (chosen === 'naive') {
    return {
      spec: { ...base, variant: 'naive' },
      build: matmulKernel,
      values: matmulValues(M, N, K, A, B, batchShape, out.offset),
      groups: [Math.ceil(N / 16), Math.ceil(M / 16), batchCount],
    };
  }
  return {
    spec: { ...base, variant: 'tiled' },
    build: matmulKernel,
    values: matmulValues(M, N, K, A, B, batchShape, out.offset),
    groups: [Math.ceil(N / MATMUL_TILE.cols), Math.ceil(M / MATMUL_TILE.rows), batchCount],
  };
}
