import type { Backend, DeviceName, View } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import type { Node } from './autograd/tape.js';
import type { DType, TypedArray } from './dtype.js';
import { WebrnnError, fmtShape } from './errors.js';
import { track, untrack } from './scopes.js';
import { contiguousStrides, isContiguous, sizeOf } from './shape.js';
import { Storage, elementCount, stats } from './storage.js';

let nextId = 0;

export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional view over a refcounted storage on one device. Ops never consume their inputs; `dispose()`
 * (or `tidy`, or `using`) releases a tensor's hold on its storage.
 */
export class Tensor {
  readonly id = nextId++;
  /** @internal The node of the op that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  /** @internal Which output of `gradFn` this tensor is. */
  outputIndex = 0;
  /** Accumulated gradient (leaves only), filled by backward. */
  grad: Tensor | null = null;
  private leafRequiresGrad = false;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    stats.tensors++;
    track(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): DeviceName {
    return this.storage.backend.name;
  }
  get backend(): Backend {
    return this.storage.backend;
  }
  get rank(): number {
    return this.shape.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isDisposed(): boolean {
    return this.disposed;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Whether gradients flow to this tensor: set on leaves, derived from the graph for results of ops. */
  get requiresGrad(): boolean {
    return this.gradFn !== null || this.leafRequiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (this.gradFn) {
      throw new WebrnnError('requiresGrad', 'can only be set on leaf tensors; use detach() to cut the graph');
    }
    if (v && this.dtype === 'int32') {
      throw new WebrnnError(
        'requiresGrad',
        'int32 tensors cannot require gradients; only float32 and float64 can',
      );
    }
    this.leafRequiresGrad = v;
  }

  /** Mark this leaf as needing gradients; returns this (for chaining). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /** @internal The backend view of this tensor, after checking it is alive. */
  backendView(op = 'tensor'): View {
    this.assertAlive(op);
    return {
      buffer: this.storage.buffer,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
      version: this.storage.version,
    };
  }

  /** @internal */
  assertAlive(op: string): void {
    if (this.disposed) {
      throw new WebrnnError(
        op,
        `tensor #${this.id} of shape ${fmtShape(this.shape)} was disposed and cannot be used`,
      );
    }
  }

  // ---- reading values -------------------------------------------------------------------------------------

  /** A contiguous host copy of the values. */
  async data(): Promise<TypedArray> {
    return this.backend.read(this.backendView('data'));
  }

  /** Synchronous read: only where the backend can (the CPU); WebGPU must use `await data()`. */
  dataSync(): TypedArray {
    if (!this.backend.canReadSync) {
      throw new WebrnnError(
        'dataSync',
        `the ${this.device} backend cannot read synchronously; use \`await t.data()\`, \`await t.toArray()\` or \`await t.item()\``,
      );
    }
    return this.backend.readSync(this.backendView('dataSync'));
  }

  async toArray(): Promise<NestedArray> {
    this.assertAlive('toArray');
    return nest(await this.data(), this.shape);
  }

  toArraySync(): NestedArray {
    this.assertAlive('toArray');
    return nest(this.dataSync(), this.shape);
  }

  async item(): Promise<number> {
    this.assertAlive('item');
    if (this.size !== 1) {
      throw new WebrnnError('item', `needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    }
    return (await this.data())[0]!;
  }

  itemSync(): number {
    this.assertAlive('item');
    if (this.size !== 1) {
      throw new WebrnnError('item', `needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    }
    return this.dataSync()[0]!;
  }

  // ---- memory ---------------------------------------------------------------------------------------------

  /** Release this tensor's hold on its storage (and its gradient). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    stats.tensors--;
    this.storage.release();
    if (this.gradFn) {
      const n = this.gradFn;
      this.gradFn = null;
      n.release();
    }
    this.grad?.dispose();
    this.grad = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // Tensor handles, two concepts with one name each. Both are new Tensor objects over the same storage and view,
  // each with its own hold (dispose one, the other stays valid):
  // - detach(): outside the graph (no gradFn, not requiring grad), for values used as constants, gradients handed
  //   between tape nodes, and tensors a node saves;
  // - handle(): at the same place in the graph as this tensor (its gradFn), for a module that keeps a recurrent
  //   state beyond the tidy scope that owns the original.

  /**
   * Another handle on this value at the same place in the graph: gradients reaching either reach the same node.
   * Lets a module hold a tensor (a recurrent state) beyond the tidy scope that owns the original. A leaf's handle
   * is a detached tensor (a leaf's gradient lands in that leaf's own `.grad`).
   */
  handle(): Tensor {
    const t = this.detach();
    if (this.gradFn) {
      t.gradFn = this.gradFn;
      t.outputIndex = this.outputIndex;
      this.gradFn.retain();
    }
    return t;
  }

  /**
   * @internal Move this tensor's values into `storage` at `offset` (dense; same backend, any dtype) and point the
   * tensor there, keeping its identity: how `getParameters()` makes every parameter a view into one flat vector,
   * and how modules change the dtype or device of their parameters. With `copyValues` false the caller has
   * already written the values.
   */
  rebind(storage: Storage, offset: number, copyValues = true): void {
    this.assertAlive('rebind');
    const strides = contiguousStrides(this.shape);
    if (copyValues)
      storage.backend.copy({
        x: this.backendView(),
        out: { buffer: storage.buffer, dtype: storage.dtype, shape: this.shape, strides, offset },
      });
    const old = this.storage;
    const self = this as { storage: Storage; strides: readonly number[]; offset: number };
    self.storage = storage.retain();
    self.strides = strides;
    self.offset = offset;
    old.release();
  }

  // ---- autograd -------------------------------------------------------------------------------------------
  // `backward(gradient?, { retainGraph })` is autograd/backward.ts, attached with the op methods (ops/methods.ts):
  // it seeds with an op and sums with ops, and this file stays below the ops.

  /** Another tensor object over the same storage and view, cut from the graph (its own hold; see handle()). */
  detach(): Tensor {
    this.assertAlive('detach');
    return new Tensor(this.storage.retain(), this.shape, this.strides, this.offset);
  }

  /** Drop `.grad`. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function nest(data: TypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0]!;
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim]!;
    const inner = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = dim === shape.length - 1 ? data[offset + i]! : build(dim + 1, offset + i * inner);
    }
    return out;
  };
  return build(0, 0);
}

/** @internal Wrap a fresh storage as a tensor. */
export function fromStorage(storage: Storage, shape: readonly number[]): Tensor {
  return new Tensor(storage, shape);
}

/** @internal Allocate an uninitialised contiguous tensor on a backend. */
/** A new dense tensor of `shape` on `backend`; `op` names the op that allocates in errors (too large a shape). */
export function empty(backend: Backend, dtype: DType, shape: readonly number[], op = 'empty'): Tensor {
  return new Tensor(Storage.alloc(backend, dtype, elementCount(op, dtype, shape), op), shape);
}

export { getBackend };
