import { bytesPerElement, type DType, type TypedArray, dtypeOfArray, typedArrayFor } from '../../dtype.js';
import { contiguousStrides } from '../../shape.js';
import { divisionByZero } from '../../errors.js';
import { checkHostAllocation, hostArray } from '../../storage.js';
import type * as B from '../backend.js';
import { BufferPool, POOL_MAX_LENGTH } from './bufferPool.js';
import { binaryCpu, copyCpu, fillCpu, paramUnaryCpu, unaryCpu, whereCpu } from './elementwise.js';
import { gatherCpu, scatterAddCpu } from './gather.js';
import { cellCpu } from './cells.js';
import { matmulCpu } from './matmul.js';
import { forgetPackedB } from './wasm/packedCache.js';
import { reduceCpu } from './reduce.js';
import { softmaxCpu } from './softmax.js';

/** Allocations up to this many elements may come from the pool (BufferPool keeps no longer ones). */
const SMALL = POOL_MAX_LENGTH;

/** The reference backend: typed arrays on the JS heap, everything synchronous. */
export class CpuBackend implements B.Backend {
  readonly name = 'cpu' as const;
  readonly canReadSync = true;
  private live = 0;
  private bytes = 0;
  /** Freed small buffers, reused by alloc (see bufferPool.ts). */
  private readonly pool = new BufferPool(SMALL);

  /** @param memoryBytes what one allocation may take (default: what the host reports at each allocation). */
  constructor(private readonly memoryBytes?: number) {}

  alloc(dtype: DType, size: number, op = 'alloc'): TypedArray {
    let array: TypedArray | null = null;
    if (size <= SMALL) {
      checkHostAllocation(op, dtype, size, this.memoryBytes);
      array = this.pool.take(dtype, size);
    }
    array ??= hostArray(op, dtype, size, this.memoryBytes);
    this.live++;
    this.bytes += size * bytesPerElement(dtype);
    return array;
  }

  free(buffer: object): void {
    const a = buffer as TypedArray;
    forgetPackedB(a); // the matmul's packed copy of it, if any
    this.live--;
    this.bytes -= a.length * bytesPerElement(dtypeOfArray(a));
    this.pool.give(a);
  }

  write(buffer: object, data: TypedArray): void {
    (buffer as TypedArray).set(data);
  }

  read(view: B.View): Promise<TypedArray> {
    return Promise.resolve(this.readSync(view));
  }

  readSync(view: B.View): TypedArray {
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

  memory(): B.MemoryInfo {
    const { buffers, bytes } = this.pool;
    return { liveBuffers: this.live, liveBytes: this.bytes, pooledBuffers: buffers, pooledBytes: bytes };
  }

  unary(spec: B.UnarySpec, { x, out }: B.Views<'unary'>): void {
    if (spec.op === 'clamp' || spec.op === 'affine') paramUnaryCpu(spec.op, spec.params ?? [], x, out);
    else unaryCpu(spec.op, x, out);
  }

  binary(op: B.BinaryOpName, { a, b, out }: B.Views<'binary'>): void {
    // Integer division by zero raises (as in PyTorch) before anything is written: div_ leaves its target as it was.
    if (op === 'div' && b.dtype === 'int32' && this.readSync(b).includes(0)) throw divisionByZero('div');
    binaryCpu(op, a, b, out);
  }

  where({ cond, a, b, out }: B.Views<'where'>): void {
    whereCpu(cond, a, b, out);
  }

  copy({ x, out }: B.Views<'copy'>): void {
    copyCpu(x, out);
  }

  fill({ out }: B.Views<'fill'>, value: number): void {
    fillCpu(out, value);
  }

  reduce(op: B.ReduceOpName, { x, out }: B.Views<'reduce'>, axes: readonly number[]): void {
    reduceCpu(op, x, axes, out);
  }

  matmul({ a, b, out }: B.Views<'matmul'>): void {
    matmulCpu(a, b, out);
  }

  addmm({ a, b, c, out }: { a: B.View; b: B.View; c: B.View; out: B.View }): void {
    matmulCpu(a, b, out, c);
  }

  softmax({ x, out }: B.Views<'softmax'>, log: boolean): void {
    softmaxCpu(x, out, log);
  }

  gather({ x, index, out }: B.Views<'gather'>, axis: number, check: B.IndexCheck): void {
    gatherCpu(x, index, axis, out, check);
  }

  scatterAdd({ out, index, src }: B.Views<'scatterAdd'>, axis: number, check: B.IndexCheck): void {
    scatterAddCpu(out, index, src, axis, check);
  }

  cell<K extends B.CellKind>(kind: K, operands: B.CellViews<K>, ...layout: B.CellLayout<K>): void {
    cellCpu(kind, operands, layout[0]);
  }

  destroy(): void {}
}
