import {
  type CellKind,
  type CellSpec,
  bufferAliases,
  cellKernel,
  cellOperandNames,
  cellValues,
  cellWidth,
  grid,
  sliceBlocks,
} from '@webrnn/kernels';
import type { CellLayout, CellViews, View } from '../backend.js';
import { type Launcher, gpuOf } from './launcher.js';

/**
 * A fused-cell kernel on WebGPU (the WGSL that kernels' cellWgsl.ts generates from the cell table) over [N, H]
 * threads: operands that share a buffer are bound once and aliased in the spec (see kernels' bufferAliases);
 * absent optional ones are a specialisation.
 */
export function cellGpu<K extends CellKind>(
  l: Launcher,
  kind: K,
  operands: CellViews<K>,
  ...layout: CellLayout<K>
): void {
  const views: Readonly<Record<string, View | null>> = operands;
  const names = cellOperandNames(kind);
  const first = views[names[0]!]!;
  const [N, H] = [first.shape[0]!, first.shape[1]! / cellWidth(kind, names[0]!)];
  const present = names.filter((n) => views[n]);
  const absent = names.filter((n) => !views[n]);
  const alias = bufferAliases(present, (n) => gpuOf(views[n]!));
  const spec: CellSpec = {
    kind,
    ...(absent.length > 0 ? { absent } : {}),
    ...(Object.keys(alias).length > 0 ? { alias } : {}),
  };
  l.launch(
    kind,
    spec,
    cellKernel,
    present.filter((n) => !alias[n]).map((n) => gpuOf(views[n]!)),
    cellValues(kind, N, H, sliceBlocks(kind, layout[0]), views),
    grid(N * H),
  );
}
