import {
  REDUCE_GROUP,
  REDUCE_MAX_RANK,
  coalesce,
  grid,
  reduceKernel,
  reduceSpecOp,
  reduceValues,
  sizeOf,
  softmaxKernel,
  softmaxValues,
} from '@webrnn/kernels';
import { isContiguous } from '../../shape.js';
import type { ReduceOpName, View } from '../backend.js';
import { type Launcher, dense, gpuOf, scalar } from './launcher.js';

/** The reductions on WebGPU: a thread per output, or a workgroup per output for long reductions. */
export function reduceGpu(l: Launcher, op: ReduceOpName, x: View, axes: readonly number[], out: View): void {
  const dimsOf = (keep: boolean) => x.shape.map((_, d) => d).filter((d) => axes.includes(d) !== keep);
  const pick = (keep: boolean) => {
    const dims = dimsOf(keep);
    const c = coalesce(
      dims.map((d) => x.shape[d]!),
      [dims.map((d) => x.strides[d]!)],
    );
    return { shape: c.shape, strides: c.strides[0]! };
  };
  const kept = pick(true);
  const red = pick(false);
  if (kept.shape.length > REDUCE_MAX_RANK || red.shape.length > REDUCE_MAX_RANK) {
    // More separate dims than the kernel walks (a permuted view of rank > 8): reduce a dense copy with the kept
    // dims first and the reduced ones after, each in their order, so that each side merges into one dim; the
    // output's order and the arg ops' flat index over the reduced dims stay the same.
    const order = [...dimsOf(true), ...dimsOf(false)];
    const shape = order.map((d) => x.shape[d]!);
    const t = l.alloc(x.dtype, sizeOf(shape));
    const copy = dense(t, shape);
    l.copy({ x: { ...x, shape, strides: order.map((d) => x.strides[d]!) }, out: copy });
    const moved = order.map((_, i) => i).filter((i) => axes.includes(order[i]!));
    reduceGpu(l, op, copy, moved, out);
    l.free(t);
    return;
  }
  const nOut = sizeOf(kept.shape);
  const nRed = sizeOf(red.shape);
  // A workgroup per output when the reductions are long and the outputs too few to fill the device.
  const mode = nRed >= 4 * REDUCE_GROUP || (nRed > REDUCE_GROUP / 2 && nOut <= 4096) ? 'group' : 'thread';
  l.launch(
    op,
    { kind: 'reduce', op: reduceSpecOp(op), type: scalar(x.dtype), flat: red.shape.length === 1, mode },
    reduceKernel,
    [gpuOf(out), gpuOf(x)],
    reduceValues(op, x, out.offset, kept, red),
    mode === 'group' ? grid(nOut, 1) : grid(nOut),
  );
}

/** Softmax or log-softmax over the last axis (a strided input is copied dense first). */
export function softmaxGpu(l: Launcher, x: View, out: View, log: boolean): void {
  const src = asDense(l, x);
  const r = x.shape.length;
  const n = r === 0 ? 1 : x.shape[r - 1]!;
  const rows = n === 0 ? 0 : sizeOf(x.shape) / n;
  l.launch(
    log ? 'logSoftmax' : 'softmax',
    { kind: 'softmax', log },
    softmaxKernel,
    [gpuOf(out), gpuOf(src.view)],
    softmaxValues(rows, n, src.view.offset, out.offset),
    grid(rows, 1),
  );
  src.done();
}

/** `v` as a dense view (a temporary copy when strided); call done() after the launch that reads it. */
function asDense(l: Launcher, v: View): { view: View; done: () => void } {
  if (isContiguous(v.shape, v.strides)) return { view: v, done: () => {} };
  const t = l.alloc(v.dtype, sizeOf(v.shape));
  const d = dense(t, v.shape);
  l.copy({ x: v, out: d });
  return { view: d, done: () => l.free(t) };
}
