import type { DType, TypedArray } from '../dtype.js';
import type { IndexCheck } from '../errors.js';

export type { IndexCheck } from '../errors.js';

/**
 * The closed interface every device implements. Tensors talk to devices only through it.
 *
 * Conventions shared by every kernel family:
 * - One method per kernel family. Its views come as one record, by the names of kernels' operand table
 *   (FAMILY_OPERANDS: `out` is the written one; `x` the input of one-input families, `a` and `b` of two-input ones),
 *   then the family's parameters (the op, axes, a flag): `binary('add', { out, a, b })`. A new backend implements
 *   these methods over its buffers and nothing else; the ops above never see a backend's internals.
 * - A `View` is a strided window on a buffer (shape, strides and offset in elements). Inputs may be any view:
 *   broadcast inputs have stride 0, transposes have swapped strides. Kernels either handle the strides
 *   or ask for a contiguous copy; they never assume.
 * - `out` is always a freshly allocated contiguous view of the output shape, except where a method says
 *   it may alias an input (the in-place forms used for gradient accumulation and optimiser steps).
 * - Methods only record work. Values reach the host through `read` (async) or `readSync` (CPU only).
 * - Shapes and dtypes were validated by the op before the call: backends trust them. Values that only the kernel
 *   sees are checked by the kernel: an index out of range (gather, scatterAdd) and an int32 division by zero
 *   raise, on the CPU at the call, on WebGPU at the next read (device-side errors).
 */
export interface View {
  readonly buffer: BufferHandle;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /**
   * The storage's count of in-place writes when the view was taken (set by Tensor.backendView): lets the CPU
   * matmul keep packed weights until they change. Absent on views a backend builds itself.
   */
  readonly version?: number;
}

/** Opaque per-backend buffer (a TypedArray on the CPU, a GPUBuffer on WebGPU). */
export type BufferHandle = object;

export type DeviceName = 'cpu' | 'webgpu';

// The elementwise op names and the LSTM gate layouts belong with their formulas in @webrnn/kernels, which both
// backends and the ops read (the leaf package: no import loop).
import type {
  BinaryOpName,
  CellKind,
  CellOperands,
  FamilyOperands,
  KernelFamily,
  LstmCellKind,
  LstmGateOrder,
  UnaryOpName,
} from '@webrnn/kernels';
export type { BinaryOpName, CellKind, KernelFamily, LstmGateOrder, UnaryOpName };

/** A kernel family's operands by name (kernels' FAMILY_OPERANDS), each a View: `Views<'binary'>` is { out, a, b }. */
export type Views<F extends KernelFamily> = FamilyOperands<F, View>;

/** A cell kernel's operands by name, typed from kernels' table: its views, null for an absent optional one. */
export type CellViews<K extends CellKind> = CellOperands<K, View>;
/** What places the gates: the gate order for LSTM kernels, nothing for GRU's (r then u). */
export type CellLayout<K extends CellKind> = K extends LstmCellKind ? [order: LstmGateOrder] : [];

/** A unary op may carry scalar parameters (clamp's bounds); they are uniforms, not part of the kernel key. */
export interface UnarySpec {
  readonly op: UnaryOpName | 'clamp' | 'affine';
  /** clamp: [lo, hi]; affine: [scale, shift] computes x*scale + shift. */
  readonly params?: readonly number[];
}

/** gather's operands: the source x, the int32 index and the output (the index's shape). */
export type GatherViews = Views<'gather'>;
/** scatterAdd's: the target out (updated in place), the int32 index and the values src added (the index's shape). */
export type ScatterAddViews = Views<'scatterAdd'>;

export type ReduceOpName = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

export interface MemoryInfo {
  /** Buffers handed out and not yet freed. */
  readonly liveBuffers: number;
  readonly liveBytes: number;
  /** Freed buffers kept for reuse (0 on the CPU, where the JS heap is the pool). */
  readonly pooledBuffers: number;
  readonly pooledBytes: number;
}

/**
 * lstmSequence's operands (see the op): gx [T,N,4H], wh [R,4H], h0 [N,R], c0 [N,H], keep [T,N,1] or null,
 * projection [H,R] or null; written, fresh and dense: out [T,N,R], cs [T,N,H], acts [T,N,4H], hs [T,N,H] (the
 * cell's h before the projection; null without one).
 */
export interface LstmSequenceViews {
  readonly gx: View;
  readonly wh: View;
  readonly h0: View;
  readonly c0: View;
  readonly keep: View | null;
  readonly projection: View | null;
  readonly out: View;
  readonly cs: View;
  readonly acts: View;
  readonly hs: View | null;
}

export interface Backend {
  readonly name: DeviceName;
  /** False where values can only be read asynchronously (WebGPU). */
  readonly canReadSync: boolean;

  /** `size` elements of `dtype`; refused with a WebrnnError naming `op` and the bytes when they cannot be had. */
  alloc(dtype: DType, size: number, op?: string): BufferHandle;
  /** Called once the last tensor over the buffer is disposed; the backend may pool it. */
  free(buffer: BufferHandle): void;
  /** Upload host data into the start of `buffer` (data.length elements). */
  write(buffer: BufferHandle, data: TypedArray): void;
  /** Contiguous host copy of the view's elements, in row-major order. */
  read(view: View): Promise<TypedArray>;
  readSync(view: View): TypedArray;
  memory(): MemoryInfo;

  /** out = f(x) elementwise; out has x's dtype. */
  unary(spec: UnarySpec, views: Views<'unary'>): void;
  /**
   * out = a op b; a and b are already broadcast to out.shape (stride 0 where stretched). out may alias a. int32
   * `div` by 0 raises (nothing is written on the CPU).
   */
  binary(op: BinaryOpName, views: Views<'binary'>): void;
  /** out = cond != 0 ? a : b; all three broadcast to out.shape. */
  where(views: Views<'where'>): void;
  /** out = x, a strided copy with optional dtype cast; out may be any view (used to write into slices for cat). */
  copy(views: Views<'copy'>): void;
  fill(views: Views<'fill'>, value: number): void;

  /** Reduce x over `axes` (sorted); out has x's rank with those axes of size 1. argmax/argmin take one axis, out int32. */
  reduce(op: ReduceOpName, views: Views<'reduce'>, axes: readonly number[]): void;

  /**
   * Batched matmul: a [..., M, K] times b [..., K, N] into out [..., M, N]. Batch dims are already broadcast
   * (stride 0 where shared). A transposed operand is a view with swapped strides: no copy needed.
   */
  matmul(views: Views<'matmul'>): void;

  /**
   * Optional: out = c + a b for a [M, K], b [K, N] and c a view broadcast to [M, N] (stride 0 on a bias's rows).
   * Where absent, the addmm op runs matmul then add.
   */
  addmm?(views: { a: View; b: View; c: View; out: View }): void;

  /** Softmax (or log-softmax where `log`) of a contiguous x over its last axis. */
  softmax(views: Views<'softmax'>, log: boolean): void;

  /**
   * out[i...] = x[i with i[axis] replaced by index[i...]] (PyTorch gather / take_along_dim). index is int32 with
   * out's shape (broadcast views allowed: indexSelect passes an index with stride 0 off `axis`). An index outside
   * [0, x.shape[axis]) raises as `check` says.
   */
  gather(views: Views<'gather'>, axis: number, check: IndexCheck): void;
  /**
   * out[i with i[axis] replaced by index[i...]] += src[i...]; repeated indices accumulate. out is updated in place.
   * An index outside [0, out.shape[axis]) raises as `check` says, and nothing is added through it.
   */
  scatterAdd(views: Views<'scatterAdd'>, axis: number, check: IndexCheck): void;

  /**
   * The fused recurrent cells, one method for the family: kernel `kind` of kernels' cell table (cells.ts, where
   * each kernel's maths, operands and widths are written) over every (row n, unit j) of its operands, given by
   * name. Every operand is a strided 2-D view [N, width * H]; the written ones are fresh or disjoint slices (never
   * aliasing a read one's elements), and read ones may share a buffer with them. An optional operand may be null
   * (read as 0). LSTM kernels take the gate order, which places the i, z, f, o blocks in the 4H columns.
   *
   *   lstmCell          gates, cPrev -> h, c, act (the activated gates, for backward)
   *   lstmCellBackward  act, c, cPrev, gH?, gC? -> gGates, gCPrev
   *   gruGates          gates (r, u), hPrev -> act = σ(gates), rh = r ⊙ hPrev
   *   gruOut            xc, m (= rh Uc, the backend's matmul between), act, hPrev -> hc, h
   *   gruOutBackward    act, hc, hPrev, gH -> gPre, gGates' u block
   *   gruGatesBackward  act, hPrev, gH, gRh (= gPre Ucᵀ) -> gGates' r block, gHPrev
   */
  cell<K extends CellKind>(kind: K, operands: CellViews<K>, ...layout: CellLayout<K>): void;

  /**
   * Optional: lstmSequence's whole forward in one launch (WebGPU's persistent kernel, for small batches). Returns
   * false, having recorded nothing, where the backend leaves it to the per-step ops (a size past its crossover, a
   * limit of the device); the op then runs its per-step loop. Writes out, cs, acts and (with a projection) hs.
   */
  lstmSequence?(views: LstmSequenceViews, order: LstmGateOrder): boolean;

  /** Release device resources (Dawn keeps the process alive while a device lives). */
  destroy(): void;
}
