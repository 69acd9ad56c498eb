import { gatherKernel, gatherValues, grid, sizeOf } from '@webrnn/kernels';
import type { IndexCheck, View } from '../backend.js';
import { type Launcher, gpuOf, scalar } from './launcher.js';

/** gather and scatterAdd on WebGPU; an index out of range raises at the next read (a device-side check). */
export function gatherGpu(
  l: Launcher,
  x: View,
  index: View,
  axis: number,
  out: View,
  check: IndexCheck,
): void {
  const along = check.positionAlongAxis === true;
  const values = gatherValues(axis, index.shape, index.shape, x.shape[axis]!, out, index, x, along);
  const spec = { kind: 'gather' as const, type: scalar(x.dtype), rank: index.shape.length };
  l.launch(
    'gather',
    spec,
    gatherKernel,
    [gpuOf(out), gpuOf(x), gpuOf(index)],
    values,
    grid(sizeOf(index.shape)),
    { kind: 'index', ...check },
  );
}

/** `method`: 'auto' picks per launch (tests force each). */
export function scatterAddGpu(
  l: Launcher,
  method: 'auto' | 'loop' | 'atomic',
  out: View,
  index: View,
  src: View,
  axis: number,
  check: IndexCheck,
): void {
  // The loop method scans index.shape[axis] sources per destination; atomics touch each source once (at the price
  // of a compare-and-swap): take the loop while it is at most a few times more work. An empty target axis has
  // no destination thread to find a (necessarily bad) index, so it takes the atomics.
  const loop =
    out.shape[axis]! > 0 &&
    (method === 'auto'
      ? sizeOf(out.shape) * index.shape[axis]! <= 8 * sizeOf(index.shape)
      : method === 'loop');
  const walked = loop ? out.shape : index.shape;
  const along = check.positionAlongAxis === true;
  const values = gatherValues(axis, walked, index.shape, out.shape[axis]!, out, index, src, along);
  const spec = {
    kind: 'scatterAdd' as const,
    type: scalar(out.dtype),
    rank: out.shape.length,
    method: loop ? ('loop' as const) : ('atomic' as const),
  };
  l.launch(
    'scatterAdd',
    spec,
    gatherKernel,
    [gpuOf(out), gpuOf(src), gpuOf(index)],
    values,
    grid(sizeOf(walked)),
    { kind: 'index', ...check },
  );
}
