import { bytesPerElement, type DType, type TypedArray, dtypeOfArray, typedArrayFor } from '../../dtype.js';
import { contiguousStrides } from '../../shape.js';
import { divisionByZero } from '../../errors.js';
import { hostArray } from '../../storage.js';
import type {
  Backend,
  BinaryOpName,
  CellKind,
  CellLayout,
  CellViews,
  GatherViews,
  IndexCheck,
  MemoryInfo,
  ReduceOpName,
  ScatterAddViews,
  UnarySpec,
  View,
} from '../backend.js';
import { binaryCpu, copyCpu, fillCpu, paramUnaryCpu, unaryCpu, whereCpu } from './elementwise.js';
import { gatherCpu, scatterAddCpu } from './gather.js';
import { cellCpu } from './cells.js';
import { matmulCpu } from './matmul.js';
import { forgetPackedB } from './wasm/packedCache.js';
import { reduceCpu } from './reduce.js';
import { softmaxCpu } from './softmax.js';

/** The reference backend: typed arrays on the JS heap, everything synchronous. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly canReadSync = true;
  private live = 0;
  private bytes = 0;

  /** @param memoryBytes what one allocation may take (default: what the host reports at each allocation). */
  constructor(private readonly memoryBytes?: number) {}

  alloc(dtype: DType, size: number, op = 'alloc'): TypedArray {
    const array = hostArray(op, dtype, size, this.memoryBytes);
    this.live++;
    this.bytes += size * bytesPerElement(dtype);
    return array;
  }

  free(buffer: object): void {
    const a = buffer as TypedArray;
    forgetPackedB(a); // the matmul's packed copy of it, if any
    this.live--;
    this.bytes -= a.length * bytesPerElement(dtypeOfArray(a));
  }

  write(buffer: object, data: TypedArray): void {
    (buffer as TypedArray).set(data);
  }

  read(view: View): Promise<TypedArray> {
    return Promise.resolve(this.readSync(view));
  }

  readSync(view: View): TypedArray {
    let n = 1;
    for (const s of view.shape) n *= s;
    const out = typedArrayFor(view.dtype, n);
    copyCpu(view, {
      buffer: out,
      dtype: view.dtype,
      shape: view.shape,
      strides: contiguousStrides(view.shape),
      offset: 0,
    });
    return out;
  }

  memory(): MemoryInfo {
    return { liveBuffers: this.live, liveBytes: this.bytes, pooledBuffers: 0, pooledBytes: 0 };
  }

  unary(spec: UnarySpec, x: View, out: View): void {
    if (spec.op === 'clamp' || spec.op === 'affine') paramUnaryCpu(spec.op, spec.params ?? [], x, out);
    else unaryCpu(spec.op, x, out);
  }

  binary(op: BinaryOpName, a: View, b: View, out: View): void {
    // Integer division by zero raises (as in PyTorch) before anything is written: div_ leaves its target as it was.
    if (op === 'div' && b.dtype === 'int32' && this.readSync(b).includes(0)) throw divisionByZero('div');
    binaryCpu(op, a, b, out);
  }

  where(cond: View, a: View, b: View, out: View): void {
    whereCpu(cond, a, b, out);
  }

  copy(x: View, out: View): void {
    copyCpu(x, out);
  }

  fill(out: View, value: number): void {
    fillCpu(out, value);
  }

  reduce(op: ReduceOpName, x: View, axes: readonly number[], out: View): void {
    reduceCpu(op, x, axes, out);
  }

  matmul(a: View, b: View, out: View): void {
    matmulCpu(a, b, out);
  }

  softmax(x: View, out: View, log: boolean): void {
    softmaxCpu(x, out, log);
  }

  gather({ x, index, out }: GatherViews, axis: number, check: IndexCheck): void {
    gatherCpu(x, index, axis, out, check);
  }

  scatterAdd({ out, index, src }: ScatterAddViews, axis: number, check: IndexCheck): void {
    scatterAddCpu(out, index, src, axis, check);
  }

  cell<K extends CellKind>(kind: K, operands: CellViews<K>, ...layout: CellLayout<K>): void {
    cellCpu(kind, operands, layout[0]);
  }

  destroy(): void {}
}
