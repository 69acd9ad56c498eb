/// <reference types="@webgpu/types" />
import {
  type Kernel,
  type ScalarType,
  elementwiseKernel,
  elementwiseMeta,
  gatherKernel,
  grid1d,
  lstmCellBackwardKernel,
  lstmCellKernel,
  MATMUL_TILE,
  matmulKernel,
  matmulMeta,
  reduceKernel,
  reduceMeta,
  scatterAddKernel,
  softmaxKernel,
} from '@webrnn/kernels';
import { type DType, type TypedArray, typedArrayFor } from '../../dtype.js';
import { WebrnnError } from '../../errors.js';
import { BINARY_FORMULAS, PARAM_UNARY_FORMULAS, UNARY_FORMULAS } from '../../ops/elementwiseTable.js';
import { contiguousStrides, isContiguous } from '../../shape.js';
import type {
  Backend,
  BinaryOpName,
  LstmGateOrder,
  MemoryInfo,
  ReduceOpName,
  UnarySpec,
  View,
} from '../backend.js';
import { gateOffsets } from '../cpu/lstmCell.js';
import { unregisterBackend } from '../registry.js';
import type { AdapterDescription } from './device.js';
import { GpuRuntime } from './runtime.js';

/** A tensor's storage on the GPU. */
interface GpuBuffer {
  readonly gpu: GPUBuffer;
  readonly dtype: DType;
  readonly size: number;
}

const scalar = (dtype: DType): ScalarType => (dtype === 'int32' ? 'i32' : 'f32');
const gpuOf = (v: View) => (v.buffer as GpuBuffer).gpu;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The WebGPU backend: every kernel family of the Backend interface as WGSL from @webrnn/kernels, recorded into one
 * command encoder and submitted when values are read. float32 and int32 only (WGSL has no f64).
 */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly canReadSync = false;
  destroyed = false;
  private readonly rt: GpuRuntime;

  constructor(
    device: GPUDevice,
    readonly adapter: AdapterDescription,
  ) {
    this.rt = new GpuRuntime(device);
  }

  alloc(dtype: DType, n: number): GpuBuffer {
    if (dtype === 'float64') {
      throw new WebrnnError(
        'webgpu',
        'float64 tensors are not supported on WebGPU (WGSL has no f64); use float32',
      );
    }
    return { gpu: this.rt.acquire(n * 4), dtype, size: n };
  }

  free(buffer: object): void {
    this.rt.release((buffer as GpuBuffer).gpu);
  }

  write(buffer: object, data: TypedArray): void {
    const b = buffer as GpuBuffer;
    if (data.length > 0)
      this.rt.device.queue.writeBuffer(b.gpu, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(view: View): Promise<TypedArray> {
    const n = size(view.shape);
    let src = view;
    let temp: GpuBuffer | null = null;
    if (!isContiguous(view.shape, view.strides)) {
      temp = this.alloc(view.dtype, n);
      src = dense(temp, view.shape);
      this.copy(view, src);
    }
    const bytes = await this.rt.readBack(gpuOf(src), src.offset * 4, n * 4);
    if (temp) this.free(temp);
    const out = typedArrayFor(view.dtype, n);
    out.set(view.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes));
    return out;
  }

  readSync(): TypedArray {
    throw new WebrnnError('dataSync', 'the webgpu backend cannot read synchronously; use `await t.data()`');
  }

  memory(): MemoryInfo {
    return { ...this.rt.stats };
  }

  /** Submit the work recorded so far (reads do this themselves). */
  flush(): void {
    this.rt.submit();
  }

  // ---- elementwise family -----------------------------------------------------------------------------------

  private elementwise(
    op: string,
    expr: string,
    inputs: readonly View[],
    out: View,
    names: readonly string[],
    p0 = 0,
    p1 = 0,
  ) {
    const k = elementwiseKernel({
      expr,
      rank: out.shape.length,
      out: scalar(out.dtype),
      inputs: inputs.map((v, i) => ({
        name: names[i]!,
        type: scalar(v.dtype),
        aliasOut: v.buffer === out.buffer,
      })),
    });
    const meta = this.rt.upload(elementwiseMeta(out.shape, out, inputs, p0, p1));
    // Bindings: 0 out, 1-3 inputs (absent when they alias out), 5 meta; pad unused slots out of the layout.
    const bufs: GPUBuffer[] = [gpuOf(out)];
    inputs.forEach((v) => {
      if (v.buffer !== out.buffer) bufs.push(gpuOf(v));
    });
    this.launch(
      op,
      k,
      bufs,
      meta,
      grid1d(size(out.shape)),
      inputs.map((v) => v.buffer !== out.buffer),
    );
  }

  unary(spec: UnarySpec, x: View, out: View): void {
    if (spec.op === 'clamp' || spec.op === 'affine') {
      const [p0 = 0, p1 = 0] = spec.params ?? [];
      this.elementwise(spec.op, PARAM_UNARY_FORMULAS[spec.op].wgsl, [x], out, ['x'], p0, p1);
    } else this.elementwise(spec.op, UNARY_FORMULAS[spec.op].wgsl, [x], out, ['x']);
  }

  binary(op: BinaryOpName, a: View, b: View, out: View): void {
    this.elementwise(op, BINARY_FORMULAS[op].wgsl, [a, b], out, ['a', 'b']);
  }

  where(cond: View, a: View, b: View, out: View): void {
    this.elementwise('where', `select(b, a, c != ${scalar(cond.dtype)}(0))`, [cond, a, b], out, [
      'c',
      'a',
      'b',
    ]);
  }

  copy(x: View, out: View): void {
    this.elementwise('copy', 'x', [x], out, ['x']);
  }

  fill(out: View, value: number): void {
    this.elementwise('fill', 'p0', [], out, [], value);
  }

  // ---- the other families ----------------------------------------------------------------------------------

  reduce(op: ReduceOpName, x: View, axes: readonly number[], out: View): void {
    const kept = { shape: [] as number[], strides: [] as number[] };
    const red = { shape: [] as number[], strides: [] as number[] };
    x.shape.forEach((d, i) => {
      const t = axes.includes(i) ? red : kept;
      t.shape.push(d);
      t.strides.push(x.strides[i]!);
    });
    const k = reduceKernel({ op, type: scalar(x.dtype), kept: kept.shape.length, reduced: red.shape.length });
    const meta = this.rt.upload(reduceMeta(x.offset, kept, red));
    const o = this.denseOut(out);
    this.launch(op, k, [gpuOf(o), gpuOf(x)], meta, grid1d(size(kept.shape)));
    this.finishOut(o, out);
  }

  matmul(a: View, b: View, out: View): void {
    const r = out.shape.length;
    const [M, N] = [out.shape[r - 2]!, out.shape[r - 1]!];
    const K = a.shape[r - 1]!;
    const batchShape = out.shape.slice(0, r - 2);
    const variant = process.env?.WEBRNN_NAIVE_MATMUL === '1' ? 'naive' : 'tiled';
    const k = matmulKernel({ variant, type: scalar(a.dtype), batchRank: batchShape.length });
    const operand = (v: View) => ({
      offset: v.offset,
      row: v.strides[r - 2]!,
      col: v.strides[r - 1]!,
      batch: v.strides.slice(0, r - 2),
    });
    const meta = this.rt.upload(matmulMeta(M, N, K, operand(a), operand(b), batchShape));
    const batch = size(batchShape);
    const groups: [number, number, number] =
      variant === 'tiled'
        ? [Math.ceil(N / MATMUL_TILE.cols), Math.ceil(M / MATMUL_TILE.rows), batch]
        : [Math.ceil(N / 16), Math.ceil(M / 16), batch];
    const o = this.denseOut(out);
    this.launch('matmul', k, [gpuOf(o), gpuOf(a), gpuOf(b)], meta, groups);
    this.finishOut(o, out);
  }

  softmax(x: View, out: View, log: boolean): void {
    const r = x.shape.length;
    const n = r === 0 ? 1 : x.shape[r - 1]!;
    const rows = n === 0 ? 0 : size(x.shape) / n;
    const meta = this.rt.upload(Int32Array.from([rows, n, x.offset]));
    const o = this.denseOut(out);
    this.launch(log ? 'logSoftmax' : 'softmax', softmaxKernel(log), [gpuOf(o), gpuOf(x)], meta, grid1d(rows));
    this.finishOut(o, out);
  }

  gather(x: View, index: View, axis: number, out: View): void {
    const meta = this.rt.upload(
      Int32Array.from([
        size(index.shape),
        index.shape.length,
        axis,
        x.shape[axis]!,
        x.offset,
        0,
        index.offset,
        ...index.shape,
        ...x.strides,
        ...index.strides,
      ]),
    );
    const o = this.denseOut(out);
    const k = gatherKernel(scalar(x.dtype), index.shape.length);
    this.launch('gather', k, [gpuOf(o), gpuOf(x), gpuOf(index)], meta, grid1d(size(index.shape)));
    this.finishOut(o, out);
  }

  scatterAdd(out: View, index: View, src: View, axis: number): void {
    const meta = this.rt.upload(
      Int32Array.from([
        size(out.shape),
        out.shape.length,
        axis,
        out.shape[axis]!,
        out.offset,
        src.offset,
        index.offset,
        ...out.shape,
        ...out.strides,
        ...index.shape,
        ...index.strides,
        ...src.strides,
      ]),
    );
    const k = scatterAddKernel(scalar(out.dtype), out.shape.length);
    this.launch('scatterAdd', k, [gpuOf(out), gpuOf(src), gpuOf(index)], meta, grid1d(size(out.shape)));
  }

  lstmCell(order: LstmGateOrder, gates: View, cPrev: View, h: View, c: View, act: View): void {
    const g = this.asDense(gates);
    const cp = this.asDense(cPrev);
    const [N, H] = [h.shape[0]!, h.shape[1]!];
    const meta = this.rt.upload(Int32Array.from([N, H, g.view.offset, cp.view.offset]));
    const k = lstmCellKernel(gateOffsets(order));
    this.launch(
      'lstmCell',
      k,
      [gpuOf(h), gpuOf(c), gpuOf(act), gpuOf(g.view), gpuOf(cp.view)],
      meta,
      grid1d(N * H),
    );
    g.done();
    cp.done();
  }

  lstmCellBackward(
    order: LstmGateOrder,
    act: View,
    c: View,
    cPrev: View,
    gradH: View | null,
    gradC: View | null,
    gradGates: View,
    gradCPrev: View,
  ): void {
    const [N, H] = [c.shape[0]!, c.shape[1]!];
    const zeros = (v: View | null) => {
      if (v) return this.asDense(v);
      const z = this.alloc('float32', N * H);
      const view = dense(z, [N, H]);
      this.fill(view, 0);
      return { view, done: () => this.free(z) };
    };
    const parts = [this.asDense(act), this.asDense(c), this.asDense(cPrev), zeros(gradH), zeros(gradC)];
    const [a, cc, cp, gh, gc] = parts.map((p) => p.view) as [View, View, View, View, View];
    const meta = this.rt.upload(
      Int32Array.from([N, H, a.offset, cc.offset, cp.offset, gh.offset, gc.offset]),
    );
    const k = lstmCellBackwardKernel(gateOffsets(order));
    const bufs = [gpuOf(gradGates), gpuOf(gradCPrev), gpuOf(a), gpuOf(cc), gpuOf(cp), gpuOf(gh), gpuOf(gc)];
    this.launch('lstmCellBackward', k, bufs, meta, grid1d(N * H));
    for (const p of parts) p.done();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.rt.submit();
    this.rt.destroy();
    unregisterBackend('webgpu');
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  /**
   * Bind `buffers` then `meta` (auto layouts keep only the bindings a kernel uses, numbered as declared: the
   * elementwise kernel declares inputs at 1-3 and meta at 5, so its bindings are listed by number).
   */
  private launch(
    op: string,
    k: Kernel,
    buffers: GPUBuffer[],
    meta: GPUBuffer,
    groups: readonly [number, number, number],
    elementwiseInputs?: readonly boolean[],
  ): void {
    if (elementwiseInputs) {
      const all: (GPUBuffer | undefined)[] = [buffers[0], undefined, undefined, undefined, undefined, meta];
      let next = 1;
      elementwiseInputs.forEach((own, i) => {
        if (own) all[i + 1] = buffers[next++];
      });
      this.rt.dispatch(op, k, all, groups);
    } else this.rt.dispatch(op, k, [...buffers, meta], groups);
    this.rt.release(meta);
  }

  /** A dense output to write into (a temporary when `out` is a strided view), and finishOut copies it back. */
  private denseOut(out: View): View {
    if (isContiguous(out.shape, out.strides)) return out;
    return dense(this.alloc(out.dtype, size(out.shape)), out.shape);
  }

  private finishOut(written: View, out: View): void {
    if (written === out) return;
    this.copy(written, out);
    this.free(written.buffer);
  }

  /** `v` as a dense view (a temporary copy when strided); call done() after the launch. */
  private asDense(v: View): { view: View; done: () => void } {
    if (isContiguous(v.shape, v.strides)) return { view: v, done: () => {} };
    const t = this.alloc(v.dtype, size(v.shape));
    const d = dense(t, v.shape);
    this.copy(v, d);
    return { view: d, done: () => this.free(t) };
  }
}

function dense(buffer: GpuBuffer, shape: readonly number[]): View {
  return { buffer, dtype: buffer.dtype, shape, strides: contiguousStrides(shape), offset: 0 };
}
