import {
  type FieldValues,
  MATMUL_TILE,
  MAX_BATCH_RANK,
  type MatmulOperand,
  type MatmulSpec,
  SUBGROUPS_PER_WORKGROUP,
  SUBGROUP_ROW_BLOCKS,
  coalesce,
  matmulKernel,
  matmulValues,
  sizeOf,
} from '@webrnn/kernels';
import { WebrnnError, fmtShape } from '../../errors.js';
import { contiguousStrides } from '../../shape.js';
import type { View } from '../backend.js';

export type MatmulVariant = 'auto' | 'tiled' | 'subgroup' | 'naive';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['auto', 'tiled', 'subgroup', 'naive'];

/** WebGPU's limit on workgroups per grid dimension: larger grids take several launches. */
export const MAX_GROUPS = 65535;

/** One launch of a matmul: the part of the grid from workgroup `values.groupBase` on. */
export interface MatmulLaunch {
  readonly values: FieldValues;
  readonly groups: [number, number, number];
}

/** Whether the adapter can run the subgroup kernel: subgroups of one fixed size, a multiple of 4 (its vec4s). */
export const subgroupUsable = (subgroupSize: number | null): boolean =>
  subgroupSize !== null && subgroupSize % 4 === 0;

/**
 * Choosing and shaping a matmul launch. The subgroup kernel (see @webrnn/kernels matmulSubgroup.ts) serves
 * adapters with subgroups of one fixed size; the tiled kernel serves everything else. 'auto' takes the subgroup
 * kernel only for float32 on software adapters, where it was measured (about twice the tiled one on lavapipe); on
 * GPUs the tiled one is the known quantity. A variant named explicitly is what runs, or a WebrnnError says why it
 * cannot (tests force each one on every adapter, so a silent substitute would hide the variant under test).
 */
export function matmulLaunch(
  a: View,
  b: View,
  out: View,
  variant: MatmulVariant,
  subgroupSize: number | null,
  software: boolean,
  maxGroups = MAX_GROUPS,
): { spec: MatmulSpec; build: typeof matmulKernel; launches: MatmulLaunch[] } {
  const r = out.shape.length;
  const [M, N] = [out.shape[r - 2]!, out.shape[r - 1]!];
  const K = a.shape[r - 1]!;
  // Batch dims merge where all three walk them contiguously (C is dense), so z is one flat index.
  const batch = coalesce(out.shape.slice(0, r - 2), [
    // Stryker disable next-line ArithmeticOperator: coalesce reads one stride per batch dim of the shape; a longer list's extra entries are never read.
    a.strides.slice(0, r - 2),
    // Stryker disable next-line ArithmeticOperator: as above.
    b.strides.slice(0, r - 2),
    contiguousStrides(out.shape.slice(0, r - 2)).map((s) => s * M * N),
  ]);
  const batchShape = r === 2 ? [] : batch.shape;
  if (batchShape.length > MAX_BATCH_RANK) {
    throw new WebrnnError(
      'matmul',
      `on webgpu at most ${MAX_BATCH_RANK} batch dims that do not merge are supported, got batch dims ${fmtShape(out.shape.slice(0, r - 2))} with strides ${fmtShape(a.strides.slice(0, r - 2))} and ${fmtShape(b.strides.slice(0, r - 2))}; make an operand contiguous first`,
    );
  }
  const pick = (k: number) => (r === 2 ? [] : batch.strides[k]!);
  // The stride of a dim of size 1 never matters: zeroing it gives equal launches for equal products.
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
  // The subgroup kernel reads an operand as vec4s along a dim when that dim is contiguous (stride 1, or size 1:
  // then only its first element counts) and the offset and the other strides are multiples of 4; through its
  // strides otherwise. Stride 0 on a dim of size > 1 (an expanded view) repeats one element: never contiguous.
  const along = (stride: number, size: number) => stride === 1 || size === 1;
  const aligned = (o: MatmulOperand, other: number) =>
    other % 4 === 0 && o.offset % 4 === 0 && o.batch.every((s) => s % 4 === 0);
  const aLoad =
    along(A.col, K) && aligned(A, A.row) ? 'k4' : along(A.row, M) && aligned(A, A.col) ? 'm4' : 'any';
  const bLoad =
    along(B.col, N) && aligned(B, B.row) ? 'n4' : along(B.row, K) && aligned(B, B.col) ? 'k4' : 'any';
  const subgroupOk = subgroupUsable(subgroupSize);
  if (variant === 'subgroup' && !subgroupOk) {
    throw new WebrnnError(
      'matmul',
      `the 'subgroup' variant needs an adapter with subgroups of one fixed size (a multiple of 4), this one has ${subgroupSize === null ? 'none' : `size ${subgroupSize}`}; use 'auto', 'tiled' or 'naive'`,
    );
  }
  const chosen =
    variant !== 'auto' ? variant : subgroupOk && software && type === 'f32' ? 'subgroup' : 'tiled';
  // Per variant: the spec, and the rows and columns of C per workgroup.
  let spec: MatmulSpec;
  let tile: [number, number];
  let gridCols = 1;
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
    gridCols = best.gc;
    tile = [R * (G / gridCols), 4 * S * gridCols];
    spec = { ...base, variant: 'subgroup', aLoad, bLoad, subgroupSize: S, rowBlocks: RB };
  } else if (chosen === 'naive') {
    tile = [16, 16];
    spec = { ...base, variant: 'naive' };
  } else {
    tile = [MATMUL_TILE.rows, MATMUL_TILE.cols];
    spec = { ...base, variant: 'tiled' };
  }
  // The whole grid, split into launches of at most 65535 workgroups per dimension (groupBase says where each is).
  const grid = [Math.ceil(N / tile[1]), Math.ceil(M / tile[0]), batchCount];
  const chunks = (n: number) => Array.from({ length: Math.ceil(n / maxGroups) }, (_, i) => i * maxGroups);
  const launches: MatmulLaunch[] = [];
  for (const z0 of chunks(grid[2]!)) {
    for (const y0 of chunks(grid[1]!)) {
      for (const x0 of chunks(grid[0]!)) {
        const base = [x0, y0, z0] as const;
        launches.push({
          values: matmulValues(M, N, K, A, B, batchShape, out.offset, gridCols, base),
          groups: base.map((b, d) => Math.min(maxGroups, grid[d]! - b)) as [number, number, number],
        });
      }
    }
  }
  return { spec, build: matmulKernel, launches };
}
