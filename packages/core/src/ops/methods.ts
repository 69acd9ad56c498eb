import { backward } from '../autograd/backward.js';
import type { DeviceName } from '../backends/backend.js';
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import * as ops from './index.js';
import type { MatmulOptions } from './matmul.js';
import type { ReduceOptions } from './reduce.js';
import type { SortOptions, SortResult } from './sort.js';

/**
 * The ops as methods (`a.add(b).relu()`), each a one-line forward to the function of the same name, so that an
 * op has one definition and both spellings; and `backward`, which needs ops. tensor.ts sits below the ops and
 * cannot define them; `attachTensorMethods()`, called once by index.ts, puts them on the prototype.
 */
type Operand = Tensor | number;
type Axes = number | readonly number[];

declare module '../tensor.js' {
  interface Tensor {
    /**
     * Backpropagate from this tensor: fills `.grad` of every leaf that requires gradients. `gradient` defaults to
     * ones for a single-element tensor.
     */
    backward(gradient?: Tensor, options?: { retainGraph?: boolean }): void;
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    pow(b: Operand): Tensor;
    maximum(b: Operand): Tensor;
    minimum(b: Operand): Tensor;
    gt(b: Operand): Tensor;
    ge(b: Operand): Tensor;
    lt(b: Operand): Tensor;
    le(b: Operand): Tensor;
    eq(b: Operand): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    cos(): Tensor;
    sin(): Tensor;
    clamp(min?: number, max?: number): Tensor;
    hardtanh(min?: number, max?: number): Tensor;
    matmul(b: Tensor, opts?: MatmulOptions): Tensor;
    sum(axes?: Axes, opts?: ReduceOptions): Tensor;
    mean(axes?: Axes, opts?: ReduceOptions): Tensor;
    max(axes?: Axes, opts?: ReduceOptions): Tensor;
    min(axes?: Axes, opts?: ReduceOptions): Tensor;
    argmax(axis?: number, opts?: ReduceOptions): Tensor;
    argmin(axis?: number, opts?: ReduceOptions): Tensor;
    softmax(axis?: number): Tensor;
    cumsum(axis: number): Tensor;
    sort(axis?: number, opts?: SortOptions): SortResult;
    topk(k: number, axis?: number, opts?: { largest?: boolean }): SortResult;
    logSoftmax(axis?: number): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    squeeze(axis?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    permute(order: readonly number[]): Tensor;
    transpose(axis0?: number, axis1?: number): Tensor;
    /** The transpose of a matrix (last two axes). */
    t(): Tensor;
    expand(shape: readonly number[]): Tensor;
    narrow(axis: number, start: number, length: number): Tensor;
    slice(axis: number, start?: number, end?: number): Tensor;
    select(axis: number, index: number): Tensor;
    split(sizes: number | readonly number[], axis?: number): Tensor[];
    chunk(chunks: number, axis?: number): Tensor[];
    indexSelect(axis: number, index: Tensor): Tensor;
    gather(axis: number, index: Tensor): Tensor;
    scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    cast(dtype: DType): Tensor;
    to(device: DeviceName): Tensor;
    toAsync(device: DeviceName): Promise<Tensor>;
    add_(b: Operand): Tensor;
    sub_(b: Operand): Tensor;
    mul_(b: Operand): Tensor;
    div_(b: Operand): Tensor;
    copy_(src: Tensor): Tensor;
    fill_(value: number): Tensor;
    zero_(): Tensor;
  }
}

/** Methods that forward to the op of the same name with `this` as the first argument. */
const SAME_NAME = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'gt',
  'ge',
  'lt',
  'le',
  'eq',
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'sign',
  'tanh',
  'sigmoid',
  'relu',
  'square',
  'reciprocal',
  'cos',
  'sin',
  'clamp',
  'hardtanh',
  'matmul',
  'sum',
  'mean',
  'max',
  'min',
  'argmax',
  'argmin',
  'softmax',
  'cumsum',
  'sort',
  'topk',
  'logSoftmax',
  'reshape',
  'view',
  'flatten',
  'squeeze',
  'unsqueeze',
  'permute',
  'transpose',
  'expand',
  'narrow',
  'slice',
  'select',
  'split',
  'chunk',
  'indexSelect',
  'gather',
  'scatterAdd',
  'contiguous',
  'clone',
  'cast',
  'to',
  'toAsync',
] as const satisfies readonly (keyof typeof ops & keyof Tensor)[];

type Method = (this: Tensor, ...args: never[]) => unknown;

/** Put the op methods and `backward` on Tensor.prototype: the one place they are attached. */
export function attachTensorMethods(): void {
  const proto = Tensor.prototype as unknown as Record<string, Method>;
  for (const name of SAME_NAME) {
    const op = ops[name] as (x: Tensor, ...args: unknown[]) => unknown;
    proto[name] = function (this: Tensor, ...args: unknown[]) {
      return op(this, ...args);
    };
  }

  Object.assign(Tensor.prototype, {
    backward(this: Tensor, gradient?: Tensor, options?: { retainGraph?: boolean }) {
      backward(this, gradient, options);
    },
    t(this: Tensor) {
      return ops.transpose(this, -2, -1);
    },
    add_(this: Tensor, b: Operand) {
      return ops.binaryInPlace('add', this, b);
    },
    sub_(this: Tensor, b: Operand) {
      return ops.binaryInPlace('sub', this, b);
    },
    mul_(this: Tensor, b: Operand) {
      return ops.binaryInPlace('mul', this, b);
    },
    div_(this: Tensor, b: Operand) {
      return ops.binaryInPlace('div', this, b);
    },
    copy_(this: Tensor, src: Tensor) {
      return ops.copyInPlace(this, src);
    },
    fill_(this: Tensor, value: number) {
      return ops.fillInPlace(this, value);
    },
    zero_(this: Tensor) {
      return ops.fillInPlace(this, 0);
    },
  });
}
