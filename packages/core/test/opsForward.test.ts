import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type DType, type NestedArray, type Tensor, tensor } from '@webrnn/core';
import {
  type Kind,
  type Layout,
  axesArb,
  axisArb,
  broadcastShapesArb,
  dim,
  flat,
  indicesArb,
  layoutArb,
  makeInput,
  mismatch,
  normAxis,
  runs,
  shapeArb,
  sizeOf,
  valuesArb,
} from './helpers/arb.js';
import * as ref from './helpers/reference.js';

/**
 * Forward values against independent references: hand-computed cases per op family, the dtype rules, and a
 * property table comparing each op (random shapes, values, dtypes and strided layouts) with the naive loops of
 * helpers/reference.ts. Golden values from PyTorch (fixtures/*.json) close the file.
 */

const arr = (t: Tensor): NestedArray => t.toArraySync();
const f64 = { dtype: 'float64' as const };
const i32 = (data: NestedArray) => tensor(data, { dtype: 'int32' });

/** Expect `t` to hold `want` (nested) within `tol` (absolute + relative), and to have `want`'s shape. */
function close(t: Tensor, want: NestedArray, tol = 1e-6) {
  const w = tensor(want, f64);
  expect(t.shape).toEqual(w.shape);
  expect(mismatch(flat(t), flat(w), tol)).toBeNull();
}

// ---- hand-computed --------------------------------------------------------------------------------------------

describe('elementwise, hand-computed', () => {
  it('broadcasting both ways, with scalars and size-1 dims', () => {
    const col = tensor([[1], [2]]);
    const row = tensor([10, 20, 30]);
    expect(arr(core.add(col, row))).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(arr(core.sub(row, col))).toEqual([
      [9, 19, 29],
      [8, 18, 28],
    ]);
    expect(arr(core.mul(tensor([[[2]]]), row))).toEqual([[[20, 40, 60]]]);
    expect(arr(core.div(row, tensor(4)))).toEqual([2.5, 5, 7.5]);
    expect(arr(core.sub(row, 1))).toEqual([9, 19, 29]);
    expect(arr(core.div(row, 8))).toEqual([1.25, 2.5, 3.75]);
    expect(core.add(core.zeros([0, 3]), row).shape).toEqual([0, 3]);
    expect(core.add(core.zeros([2, 1, 0]), core.zeros([3, 1])).shape).toEqual([2, 3, 0]);
  });

  it('unary functions', () => {
    close(core.exp(tensor([0, 1, -1], f64)), [1, Math.E, 1 / Math.E], 1e-15);
    close(core.log(tensor([1, Math.E, 0.5], f64)), [0, 1, -Math.LN2], 1e-15);
    expect(arr(core.sqrt(tensor([4, 9, 0])))).toEqual([2, 3, 0]);
    expect(arr(core.abs(tensor([-2, 0, 3])))).toEqual([2, 0, 3]);
    expect(arr(core.neg(tensor([-2, 0.5])))).toEqual([2, -0.5]);
    close(core.tanh(tensor([0, 0.5, -20], f64)), [0, Math.tanh(0.5), -1], 1e-15);
    close(core.sigmoid(tensor([0, 2, -2], f64)), [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2))], 1e-15);
    // The stable form: no overflow, no NaN at the extremes.
    expect(arr(core.sigmoid(tensor([-1000, 1000], f64)))).toEqual([0, 1]);
    expect(arr(core.relu(tensor([-1, 0, 2])))).toEqual([0, 0, 2]);
    expect(arr(core.square(tensor([-3, 0.5])))).toEqual([9, 0.25]);
    expect(arr(core.reciprocal(tensor([4, -0.5])))).toEqual([0.25, -2]);
    expect(arr(core.sign(tensor([-4, 0, 0.1])))).toEqual([-1, 0, 1]);
    expect(arr(core.pow(tensor([2, 4, 9]), 0.5))).toEqual([Math.SQRT2, 2, 3].map(Math.fround));
    expect(arr(core.pow(tensor([2, 3]), tensor([3, 0])))).toEqual([8, 1]);
    expect(arr(core.pow(tensor([2, 3]), 2))).toEqual([4, 9]);
    expect(arr(core.pow(tensor([-2, 3]), 3))).toEqual([-8, 27]);
  });

  it('clamp, hardtanh, maximum/minimum, where and comparisons', () => {
    expect(arr(core.hardtanh(tensor([-3, -1, 0.5, 1, 3])))).toEqual([-1, -1, 0.5, 1, 1]);
    expect(arr(core.clamp(tensor([-3, 0.5, 3]), -1, 2))).toEqual([-1, 0.5, 2]);
    expect(arr(core.clamp(tensor([-3, 0.5, 3]), 0))).toEqual([0, 0.5, 3]);
    expect(arr(core.clamp(tensor([-3, 0.5, 3]), undefined, 0))).toEqual([-3, 0, 0]);
    expect(arr(core.maximum(tensor([1, 5, -2]), tensor([3, 4, -2])))).toEqual([3, 5, -2]);
    expect(arr(core.minimum(tensor([[1], [5]]), tensor([3, 4])))).toEqual([
      [1, 1],
      [3, 4],
    ]);
    expect(arr(core.maximum(tensor([1, 5]), 3))).toEqual([3, 5]);
    // NaN propagates from either side, as in PyTorch (and through relu and clamp).
    const nan = Number.NaN;
    expect(arr(core.maximum(tensor([nan, 2, 1]), tensor([1, nan, 0])))).toEqual([nan, nan, 1]);
    expect(arr(core.minimum(tensor([nan, 2, 1]), tensor([1, nan, 0])))).toEqual([nan, nan, 0]);
    expect(arr(core.relu(tensor([nan, -1])))).toEqual([nan, 0]);
    expect(arr(core.clamp(tensor([nan, 3]), 0, 1))).toEqual([nan, 1]);
    expect(arr(core.where(tensor([1, 0, 2]), tensor([1, 2, 3]), tensor([7, 8, 9])))).toEqual([1, 8, 3]);
    expect(arr(core.where(i32([[1], [0]]), tensor([1, 2]), -1))).toEqual([
      [1, 2],
      [-1, -1],
    ]);
    expect(arr(core.where(tensor([0, 1]), 5, tensor([1, 2])))).toEqual([1, 5]);
    const a = tensor([1, 2, 3]);
    expect(arr(core.gt(a, 2))).toEqual([0, 0, 1]);
    expect(arr(core.ge(a, 2))).toEqual([0, 1, 1]);
    expect(arr(core.lt(a, 2))).toEqual([1, 0, 0]);
    expect(arr(core.le(a, 2))).toEqual([1, 1, 0]);
    expect(arr(core.eq(a, tensor([3, 2, 1])))).toEqual([0, 1, 0]);
    expect(core.gt(a, 2).dtype).toBe('float32'); // comparisons keep the inputs' dtype
    expect(core.eq(i32([1, 2]), i32([1, 0])).dtype).toBe('int32');
  });

  it('int32 arithmetic: stays int32, division truncates toward zero', () => {
    const a = i32([7, -7, 7, -7, 6]);
    const b = i32([2, 2, -2, -2, 3]);
    const q = core.div(a, b);
    expect(q.dtype).toBe('int32');
    expect(arr(q)).toEqual([3, -3, -3, 3, 2]);
    expect(arr(core.div(i32([7, -7]), 2))).toEqual([3, -3]);
    expect(arr(core.add(a, b))).toEqual([9, -5, 5, -9, 9]);
    expect(arr(core.mul(a, b))).toEqual([14, -14, -14, 14, 18]);
    expect(arr(core.sub(a, 1))).toEqual([6, -8, 6, -8, 5]);
    expect(arr(core.neg(i32([3, -4])))).toEqual([-3, 4]);
    expect(arr(core.abs(i32([3, -4])))).toEqual([3, 4]);
    expect(arr(core.relu(i32([3, -4])))).toEqual([3, 0]);
    expect(arr(core.maximum(i32([3, -4]), i32([1, 1])))).toEqual([3, 1]);
    const s = core.sum(
      i32([
        [1, 2],
        [3, 4],
      ]),
      0,
    );
    expect(s.dtype).toBe('int32');
    expect(arr(s)).toEqual([4, 6]);
    expect(arr(core.max(i32([3, 9, -1])))).toBe(9);
  });
});

describe('matmul, hand-computed', () => {
  const A = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  const B = [
    [7, 8],
    [9, 10],
    [11, 12],
  ];
  const AB = [
    [58, 64],
    [139, 154],
  ];
  it('2-D, transposed operands, 1-D promotion', () => {
    expect(arr(core.matmul(tensor(A), tensor(B)))).toEqual(AB);
    // transA: a is stored [K, M]; transB: b is stored [N, K].
    const At = core.contiguous(core.transpose(tensor(A)));
    const Bt = core.contiguous(core.transpose(tensor(B)));
    expect(arr(core.matmul(At, tensor(B), { transA: true }))).toEqual(AB);
    expect(arr(core.matmul(tensor(A), Bt, { transB: true }))).toEqual(AB);
    expect(arr(core.matmul(At, Bt, { transA: true, transB: true }))).toEqual(AB);
    // Strided views read in place.
    expect(arr(core.matmul(At.t(), Bt.t()))).toEqual(AB);
    const dot = core.matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
    expect(dot.shape).toEqual([]);
    expect(dot.itemSync()).toBe(32);
    expect(arr(core.matmul(tensor(A), tensor([1, 0, -1])))).toEqual([-2, -2]);
    expect(arr(core.matmul(tensor([1, -1]), tensor(A)))).toEqual([-3, -3, -3]);
  });

  it('batched with broadcast batch dims; empty K gives zeros', () => {
    const a = tensor([A, A.map((r) => r.map((v) => -v))]); // [2, 2, 3]
    const y = core.matmul(a, tensor(B)); // b broadcast over the batch
    expect(y.shape).toEqual([2, 2, 2]);
    expect(arr(y)).toEqual([AB, AB.map((r) => r.map((v) => -v))]);
    const y2 = core.matmul(
      tensor([[[1, 0]], [[0, 1]]]),
      tensor([
        [
          [1, 2],
          [3, 4],
        ],
      ]),
    ); // [2,1,2] x [1,2,2]
    expect(arr(y2)).toEqual([[[1, 2]], [[3, 4]]]);
    expect(arr(core.matmul(core.zeros([2, 0]), core.zeros([0, 3])))).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(core.matmul(core.zeros([3, 0, 2]), core.zeros([2, 4])).shape).toEqual([3, 0, 4]);
  });
});

describe('reductions, hand-computed', () => {
  const x = tensor([
    [1, 5, 5],
    [7, 0, 2],
  ]);
  it('sum/mean/max/min over axes, keepdim, negative axes', () => {
    expect(arr(core.sum(x))).toBe(20);
    expect(arr(core.sum(x, -1))).toEqual([11, 9]);
    expect(arr(core.sum(x, 0, { keepdim: true }))).toEqual([[8, 5, 7]]);
    expect(arr(core.sum(x, [0, -1], { keepdim: true }))).toEqual([[20]]);
    expect(arr(core.mean(x, 1))).toEqual([11 / 3, 3].map(Math.fround));
    expect(arr(core.mean(x, -2, { keepdim: true }))).toEqual([[4, 2.5, 3.5]]);
    expect(arr(core.max(x, 1))).toEqual([5, 7]);
    expect(arr(core.max(x, 0, { keepdim: true }))).toEqual([[7, 5, 5]]);
    expect(arr(core.min(x))).toBe(0);
    expect(arr(core.min(x, -1))).toEqual([1, 0]);
    const t3 = core.reshape(core.arange(24, undefined, undefined, f64), [2, 3, 4]);
    expect(arr(core.sum(t3, [0, 2]))).toEqual([60, 92, 124]);
    expect(arr(core.max(t3, [-1, 0]))).toEqual([15, 19, 23]);
  });

  it('argmax/argmin: int32, first index at ties, keepdim, flattened', () => {
    const t = tensor([
      [1, 3, 3],
      [2, 2, 2],
      [0, -1, -1],
    ]);
    const am = core.argmax(t, 1);
    expect(am.dtype).toBe('int32');
    expect(arr(am)).toEqual([1, 0, 0]);
    expect(arr(core.argmin(t, 1))).toEqual([0, 0, 1]);
    expect(arr(core.argmax(t, 0, { keepdim: true }))).toEqual([[1, 0, 0]]);
    expect(arr(core.argmax(t, -2))).toEqual([1, 0, 0]);
    expect(arr(core.argmax(t))).toBe(1); // flattened: the first 3
    expect(arr(core.argmin(t))).toBe(7);
    const kd = core.argmax(t, undefined, { keepdim: true });
    expect(kd.shape).toEqual([1, 1]); // keepdim over all axes keeps every axis, as size 1
    expect(arr(kd)).toEqual([[1]]);
  });

  it('empty tensors: sum is 0, mean is NaN; kept empty dims stay empty', () => {
    expect(arr(core.sum(core.zeros([0, 3]), 0))).toEqual([0, 0, 0]);
    expect(arr(core.sum(core.zeros([0])))).toBe(0);
    expect(Number.isNaN(core.mean(core.zeros([0])).itemSync())).toBe(true);
    expect(core.max(core.zeros([0, 3]), 1).shape).toEqual([0]);
    expect(core.sum(core.zeros([2, 0]), 1, { keepdim: true }).shape).toEqual([2, 1]);
  });
});

describe('softmax, hand-computed', () => {
  it('values, any axis, stability for large inputs, masked (-Infinity) entries', () => {
    close(core.softmax(tensor([0, Math.log(3)], f64)), [0.25, 0.75], 1e-15);
    close(core.logSoftmax(tensor([[0, Math.log(3)]], f64)), [[Math.log(0.25), Math.log(0.75)]], 1e-15);
    close(
      core.softmax(
        tensor(
          [
            [0, 0],
            [Math.log(3), 0],
          ],
          f64,
        ),
        0,
      ),
      [
        [0.25, 0.5],
        [0.75, 0.5],
      ],
      1e-15,
    );
    const big = core.softmax(tensor([1000, 1000, -1000]));
    expect(arr(big)).toEqual([0.5, 0.5, 0]);
    const lbig = core.logSoftmax(tensor([1e4, 0], f64));
    expect(arr(lbig)).toEqual([0, -1e4]);
    expect(arr(core.softmax(tensor([Number.NEGATIVE_INFINITY, 0])))).toEqual([0, 1]);
    close(core.softmax(tensor(5)), 1);
    expect(core.softmax(core.zeros([0, 4])).shape).toEqual([0, 4]);
  });
});

describe('shape ops: views, copies and PyTorch semantics', () => {
  it('reshape/view share storage when the strides allow; reshape of a non-contiguous view copies', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const r = x.reshape([3, 2]);
    expect(r.storage).toBe(x.storage);
    expect(arr(r)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(x.reshape([-1]).shape).toEqual([6]);
    expect(x.view([2, 1, 3]).storage).toBe(x.storage);
    const t = x.t();
    expect(t.isContiguous).toBe(false);
    expect(t.storage).toBe(x.storage);
    const tr = t.reshape([6]);
    expect(tr.storage).not.toBe(x.storage); // a copy, in t's logical order
    expect(arr(tr)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => t.view([6])).toThrow(/view: .*cannot be viewed as \[6\]; use reshape\(\)/);
    // Splitting a dim of a transposed view needs no copy.
    const t2 = core.reshape(core.arange(12, undefined, undefined, f64), [3, 4]).t(); // [4, 3] strides [1, 4]
    const split = t2.view([2, 2, 3]);
    expect(split.storage).toBe(t2.storage);
    expect(arr(split)).toEqual([
      [
        [0, 4, 8],
        [1, 5, 9],
      ],
      [
        [2, 6, 10],
        [3, 7, 11],
      ],
    ]);
    // Rows narrowed out of a matrix are still contiguous rows: viewable as one vector.
    const rows = core.narrow(core.reshape(core.arange(12), [3, 4]), 0, 1, 2);
    expect(arr(rows.view([8]))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const cols = core.narrow(core.reshape(core.arange(12), [3, 4]), 1, 1, 2);
    expect(() => cols.view([6])).toThrow(/view:/);
    expect(arr(cols.reshape([6]))).toEqual([1, 2, 5, 6, 9, 10]);
  });

  it('views see writes to their storage; contiguous() and clone() copy', () => {
    const base = core.zeros([2, 3]);
    const col = core.select(base, 1, 1);
    const cl = base.clone();
    const same = core.contiguous(base);
    core.noGrad(() => col.fill_(7));
    expect(arr(base)).toEqual([
      [0, 7, 0],
      [0, 7, 0],
    ]);
    expect(arr(cl)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(same.storage).toBe(base.storage); // already dense: a view
    const dense = core.contiguous(base.t());
    expect(dense.isContiguous).toBe(true);
    expect(dense.storage).not.toBe(base.storage);
  });

  it('flatten, squeeze, unsqueeze, permute, transpose, t, expand', () => {
    const x = core.zeros([2, 1, 3, 1]);
    expect(core.flatten(x).shape).toEqual([6]);
    expect(core.flatten(x, 1).shape).toEqual([2, 3]);
    expect(core.flatten(x, 1, 2).shape).toEqual([2, 3, 1]);
    expect(core.flatten(tensor(3)).shape).toEqual([1]);
    expect(core.squeeze(x).shape).toEqual([2, 3]);
    expect(core.squeeze(x, 1).shape).toEqual([2, 3, 1]);
    expect(core.squeeze(x, 0).shape).toEqual([2, 1, 3, 1]); // not size 1: unchanged
    expect(core.squeeze(x, -1).shape).toEqual([2, 1, 3]);
    expect(core.unsqueeze(tensor([1, 2]), 0).shape).toEqual([1, 2]);
    expect(core.unsqueeze(tensor([1, 2]), -1).shape).toEqual([2, 1]);
    const y = core.reshape(core.arange(6), [1, 2, 3]);
    const p = core.permute(y, [2, 0, 1]);
    expect(p.shape).toEqual([3, 1, 2]);
    expect(arr(p)).toEqual([[[0, 3]], [[1, 4]], [[2, 5]]]);
    expect(arr(core.transpose(y, 0, 2))).toEqual([
      [[0], [3]],
      [[1], [4]],
      [[2], [5]],
    ]);
    expect(arr(core.reshape(core.arange(6), [2, 3]).t())).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(core.transpose(tensor([1, 2, 3])).shape).toEqual([3]); // 1-D: itself, as t() in PyTorch
    const e = core.expand(tensor([[1], [2]]), [3, 2, -1, 4]);
    expect(e.shape).toEqual([3, 2, 2, 4]); // new leading dims 3 and 2, -1 keeps the 2, the 1 stretches to 4
    expect(e.strides).toEqual([0, 0, 1, 0]); // no copy: stride 0 where stretched
    expect(e.storage).toBeDefined();
    expect(arr(core.expand(tensor([[1], [2]]), [2, 3]))).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(core.expand(tensor([[1], [2]]), [2, 0]).shape).toEqual([2, 0]);
  });

  it('narrow, slice, select (negative positions count from the end)', () => {
    const x = core.reshape(core.arange(12), [3, 4]);
    expect(arr(core.narrow(x, 1, 1, 2))).toEqual([
      [1, 2],
      [5, 6],
      [9, 10],
    ]);
    expect(arr(core.narrow(x, 0, -1, 1))).toEqual([[8, 9, 10, 11]]);
    expect(core.narrow(x, 0, 3, 0).shape).toEqual([0, 4]);
    expect(arr(core.slice(x, 1, -3, -1))).toEqual([
      [1, 2],
      [5, 6],
      [9, 10],
    ]);
    expect(arr(core.slice(x, 0, 2))).toEqual([[8, 9, 10, 11]]);
    expect(core.slice(x, 0, 5, 9).shape).toEqual([0, 4]); // clamped like Python
    expect(core.slice(x, 0, 2, 1).shape).toEqual([0, 4]);
    expect(arr(core.select(x, 1, -1))).toEqual([3, 7, 11]);
    expect(arr(core.select(x, 0, 1))).toEqual([4, 5, 6, 7]);
    expect(core.select(tensor([5, 6]), 0, 1).shape).toEqual([]);
  });

  it('cat, stack, split and chunk follow PyTorch', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([[3, 4]]);
    expect(arr(core.cat([a, b]))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(arr(core.cat([a, b], -1))).toEqual([[1, 2, 3, 4]]);
    expect(arr(core.cat([a, core.zeros([0, 2]), b]))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(arr(core.stack([a, b], 1))).toEqual([
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(arr(core.stack([tensor([1, 2]), tensor([3, 4])], -1))).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const sizes = (ts: Tensor[]) => ts.map((t) => t.shape[0]);
    expect(sizes(core.split(core.arange(5), 2))).toEqual([2, 2, 1]);
    expect(sizes(core.split(core.arange(5), 5))).toEqual([5]);
    expect(sizes(core.split(core.arange(5), 7))).toEqual([5]);
    expect(sizes(core.split(core.arange(5), [1, 0, 4]))).toEqual([1, 0, 4]);
    expect(core.split(core.arange(5), [1, 4]).map(arr)).toEqual([[0], [1, 2, 3, 4]]);
    expect(sizes(core.chunk(core.arange(5), 3))).toEqual([2, 2, 1]);
    expect(sizes(core.chunk(core.arange(5), 4))).toEqual([2, 2, 1]); // pieces of ceil(5/4): only three
    expect(sizes(core.chunk(core.arange(6), 4))).toEqual([2, 2, 2]);
    expect(sizes(core.chunk(core.arange(2), 5))).toEqual([1, 1]);
    // An empty axis: split gives one empty piece, chunk keeps the count (PyTorch 1.13).
    expect(sizes(core.split(core.zeros([0]), 2))).toEqual([0]);
    expect(sizes(core.chunk(core.zeros([0]), 3))).toEqual([0, 0, 0]);
    const pieces = core.split(core.reshape(core.arange(6), [2, 3]), [1, 2], 1);
    expect(pieces.map(arr)).toEqual([
      [[0], [3]],
      [
        [1, 2],
        [4, 5],
      ],
    ]);
    expect(core.unbind(core.reshape(core.arange(6), [2, 3]), 1).map(arr)).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });
});

describe('indexing, hand-computed', () => {
  const w = tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  it('indexSelect, gather, scatterAdd (repeated indices accumulate)', () => {
    expect(arr(core.indexSelect(w, 0, i32([2, 0, 2])))).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(arr(core.indexSelect(w, -1, i32([1])))).toEqual([[2], [4], [6]]);
    expect(core.indexSelect(w, 0, i32([])).shape).toEqual([0, 2]);
    expect(arr(core.gather(w, 1, i32([[1], [0], [1]])))).toEqual([[2], [3], [6]]);
    expect(arr(core.gather(w, 0, i32([[2, 0]])))).toEqual([[5, 2]]);
    expect(arr(core.scatterAdd(core.zeros([3]), 0, i32([2, 0, 2]), tensor([1, 10, 100])))).toEqual([
      10, 0, 101,
    ]);
    const s2 = core.scatterAdd(
      core.ones([2, 3]),
      1,
      i32([
        [0, 0],
        [2, 1],
      ]),
      tensor([
        [1, 2, 99],
        [3, 4, 99],
      ]),
    );
    expect(arr(s2)).toEqual([
      [4, 1, 1],
      [1, 5, 4],
    ]);
  });
});

describe('losses, hand-computed', () => {
  const logp = tensor([
    [-1, -2, -3],
    [-0.5, -1.5, -2.5],
  ]);
  const target = i32([2, 0]);
  it('nll: mean, sum, none, and a single sample', () => {
    expect(core.nll(logp, target).itemSync()).toBeCloseTo(1.75, 6);
    expect(core.nll(logp, target, 'sum').itemSync()).toBeCloseTo(3.5, 6);
    expect(arr(core.nll(logp, target, 'none'))).toEqual([3, 0.5]);
    expect(core.nll(tensor([-1, -2]), tensor(1, { dtype: 'int32' })).itemSync()).toBe(2);
  });
  it('crossEntropy = nll(logSoftmax): uniform scores give log C', () => {
    expect(core.crossEntropy(core.zeros([4, 5], f64), i32([0, 1, 2, 4])).itemSync()).toBeCloseTo(
      Math.log(5),
      14,
    );
    const x = tensor([[0, Math.log(3)]], f64);
    expect(core.crossEntropy(x, i32([1])).itemSync()).toBeCloseTo(-Math.log(0.75), 14);
    expect(core.crossEntropy(tensor([0, 0]), tensor(0, { dtype: 'int32' })).itemSync()).toBeCloseTo(
      Math.LN2,
      6,
    );
  });
  it('mse and bce (with weights; p = 0 or 1 stays finite as in Torch)', () => {
    expect(core.mse(tensor([1, 3]), tensor([0, 0])).itemSync()).toBe(5);
    expect(core.mse(tensor([1, 3]), tensor([0, 0]), 'sum').itemSync()).toBe(10);
    expect(arr(core.mse(tensor([1, 3]), tensor([0, 1]), 'none'))).toEqual([1, 4]);
    expect(core.bce(tensor([0.5], f64), tensor([1], f64)).itemSync()).toBeCloseTo(Math.LN2, 10);
    const p = tensor([0.8, 0.25], f64);
    const t = tensor([1, 0], f64);
    close(core.bce(p, t, 'none'), [-Math.log(0.8), -Math.log(0.75)], 1e-10);
    expect(core.bce(p, t, 'sum', tensor([2, 0], f64)).itemSync()).toBeCloseTo(-2 * Math.log(0.8), 10);
    const edge = core.bce(tensor([0, 1], f64), tensor([1, 0], f64), 'none');
    expect(flat(edge).every((v) => Number.isFinite(v) && v > 27)).toBe(true); // -log(1e-12) = 27.6
  });
});

describe('casts', () => {
  it('float to int truncates toward zero; float64 to float32 rounds; int to float is exact', () => {
    expect(arr(core.cast(tensor([1.7, -1.7, 2.5, -0.2]), 'int32'))).toEqual([1, -1, 2, 0]);
    expect(arr(core.cast(tensor([0.1], f64), 'float32'))).toEqual([Math.fround(0.1)]);
    expect(arr(core.cast(i32([-3, 16777217]), 'float64'))).toEqual([-3, 16777217]);
    expect(core.cast(i32([1]), 'float32').dtype).toBe('float32');
  });
});

// ---- dtype rules ----------------------------------------------------------------------------------------------

describe('dtype rules', () => {
  it('float32 by default; int32 from integer aranges; typed arrays keep theirs', () => {
    expect(tensor([1, 2]).dtype).toBe('float32');
    expect(tensor(1).dtype).toBe('float32');
    expect(core.zeros([2]).dtype).toBe('float32');
    expect(core.randn([2]).dtype).toBe('float32');
    expect(core.arange(3).dtype).toBe('int32');
    expect(core.arange(0, 3, 0.5).dtype).toBe('float32');
    expect(core.arange(0.5, 3).dtype).toBe('float32');
    expect(core.linspace(0, 1, 3).dtype).toBe('float32');
    expect(tensor(new Float64Array([1])).dtype).toBe('float64');
    expect(tensor(new Int32Array([1])).dtype).toBe('int32');
    expect(core.randint(0, 3, [2]).dtype).toBe('int32');
  });

  it('float64 is kept through every op family', () => {
    const x = tensor(
      [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      f64,
    );
    const ops: [string, Tensor][] = [
      ['add', core.add(x, 1)],
      ['mul', core.mul(x, x)],
      ['exp', core.exp(x)],
      ['matmul', core.matmul(x, x)],
      ['sum', core.sum(x)],
      ['mean', core.mean(x, 0)],
      ['max', core.max(x, 1)],
      ['softmax', core.softmax(x)],
      ['reshape', x.reshape([4])],
      ['cat', core.cat([x, x])],
      ['gather', core.gather(x, 1, i32([[0], [1]]))],
      ['nll', core.nll(x, i32([0, 1]))],
      ['crossEntropy', core.crossEntropy(x, i32([0, 1]))],
      ['mse', core.mse(x, x)],
      ['bce', core.bce(x, x)],
      ['where', core.where(x, x, 0)],
    ];
    for (const [name, y] of ops) expect(y.dtype, name).toBe('float64');
    // 0.1 + 0.2 in float64 is not float32's
    expect(core.add(tensor([0.1], f64), tensor([0.2], f64)).itemSync()).toBe(0.1 + 0.2);
  });

  it('gradients have their leaf dtype, across casts too', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    core.sum(core.mul(core.cast(x, 'float64'), 3)).backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(arr(x.grad!)).toEqual([3, 3]);
    const y = tensor([1, 2], { ...f64, requiresGrad: true });
    core.sum(core.square(y)).backward();
    expect(y.grad!.dtype).toBe('float64');
    // A cast to int32 cuts the graph.
    expect(core.cast(x, 'int32').requiresGrad).toBe(false);
  });
});

// ---- the Tensor methods ---------------------------------------------------------------------------------------

describe('Tensor methods are the ops', () => {
  it('each method gives what the function of the same name gives', () => {
    const x = tensor(
      [
        [0.5, -1, 2],
        [1.5, 0.25, -0.75],
      ],
      f64,
    );
    const p = tensor(
      [
        [0.5, 1, 2],
        [1.5, 0.25, 0.75],
      ],
      f64,
    );
    const idx = i32([
      [0, 2],
      [1, 1],
    ]);
    const cases: [string, Tensor | Tensor[], Tensor | Tensor[]][] = [
      ['add', x.add(p), core.add(x, p)],
      ['sub', x.sub(2), core.sub(x, 2)],
      ['mul', x.mul(p), core.mul(x, p)],
      ['div', x.div(p), core.div(x, p)],
      ['pow', p.pow(x), core.pow(p, x)],
      ['maximum', x.maximum(p), core.maximum(x, p)],
      ['minimum', x.minimum(0), core.minimum(x, 0)],
      ['gt', x.gt(p), core.gt(x, p)],
      ['ge', x.ge(0.5), core.ge(x, 0.5)],
      ['lt', x.lt(p), core.lt(x, p)],
      ['le', x.le(0.5), core.le(x, 0.5)],
      ['eq', x.eq(p), core.eq(x, p)],
      ['neg', x.neg(), core.neg(x)],
      ['exp', x.exp(), core.exp(x)],
      ['log', p.log(), core.log(p)],
      ['sqrt', p.sqrt(), core.sqrt(p)],
      ['abs', x.abs(), core.abs(x)],
      ['sign', x.sign(), core.sign(x)],
      ['tanh', x.tanh(), core.tanh(x)],
      ['sigmoid', x.sigmoid(), core.sigmoid(x)],
      ['relu', x.relu(), core.relu(x)],
      ['square', x.square(), core.square(x)],
      ['reciprocal', x.reciprocal(), core.reciprocal(x)],
      ['clamp', x.clamp(-0.5, 1), core.clamp(x, -0.5, 1)],
      ['hardtanh', x.hardtanh(), core.hardtanh(x)],
      ['matmul', x.matmul(p, { transB: true }), core.matmul(x, p, { transB: true })],
      ['sum', x.sum(1, { keepdim: true }), core.sum(x, 1, { keepdim: true })],
      ['mean', x.mean(), core.mean(x)],
      ['max', x.max(0), core.max(x, 0)],
      ['min', x.min(-1), core.min(x, -1)],
      ['argmax', x.argmax(1), core.argmax(x, 1)],
      ['argmin', x.argmin(), core.argmin(x)],
      ['softmax', x.softmax(0), core.softmax(x, 0)],
      ['logSoftmax', x.logSoftmax(), core.logSoftmax(x)],
      ['reshape', x.reshape([3, 2]), core.reshape(x, [3, 2])],
      ['view', x.view([-1]), core.view(x, [-1])],
      ['flatten', x.flatten(), core.flatten(x)],
      ['squeeze', x.unsqueeze(0).squeeze(), core.squeeze(core.unsqueeze(x, 0))],
      ['permute', x.permute([1, 0]), core.permute(x, [1, 0])],
      ['transpose', x.transpose(0, 1), core.transpose(x, 0, 1)],
      ['t', x.t(), core.transpose(x)],
      ['expand', x.unsqueeze(0).expand([2, 2, 3]), core.expand(core.unsqueeze(x, 0), [2, 2, 3])],
      ['narrow', x.narrow(1, 1, 2), core.narrow(x, 1, 1, 2)],
      ['slice', x.slice(1, -2), core.slice(x, 1, -2)],
      ['select', x.select(0, 1), core.select(x, 0, 1)],
      ['split', x.split(2, 1), core.split(x, 2, 1)],
      ['chunk', x.chunk(2, 1), core.chunk(x, 2, 1)],
      ['indexSelect', x.indexSelect(1, i32([2, 0])), core.indexSelect(x, 1, i32([2, 0]))],
      ['gather', x.gather(1, idx), core.gather(x, 1, idx)],
      ['scatterAdd', x.scatterAdd(1, idx, p), core.scatterAdd(x, 1, idx, p)],
      ['contiguous', x.t().contiguous(), core.contiguous(x.t())],
      ['clone', x.clone(), core.clone(x)],
      ['cast', x.cast('float32'), core.cast(x, 'float32')],
      ['to', x.to('cpu'), core.to(x, 'cpu')],
    ];
    for (const [name, m, f] of cases) {
      const ms = Array.isArray(m) ? m : [m];
      const fs = Array.isArray(f) ? f : [f];
      expect(ms.length, name).toBe(fs.length);
      ms.forEach((t, i) => {
        expect(t.shape, name).toEqual(fs[i]!.shape);
        expect(t.dtype, name).toBe(fs[i]!.dtype);
        expect(flat(t), name).toEqual(flat(fs[i]!));
      });
    }
  });

  it('in-place methods write through to the storage and bump its version', () => {
    const x = tensor([1, 2, 3], f64);
    const v0 = x.storage.version;
    x.add_(1)
      .mul_(tensor([2, 2, 2], f64))
      .sub_(1)
      .div_(2);
    expect(arr(x)).toEqual([1.5, 2.5, 3.5]);
    x.copy_(tensor([[9, 8, 7]], f64).reshape([3]));
    expect(arr(x)).toEqual([9, 8, 7]);
    x.fill_(4);
    expect(arr(x)).toEqual([4, 4, 4]);
    core.narrow(x, 0, 1, 2).zero_();
    expect(arr(x)).toEqual([4, 0, 0]);
    expect(x.storage.version).toBeGreaterThan(v0);
    // In-place on a broadcast source and a strided target.
    const m = core.zeros([2, 3], f64);
    m.t().add_(tensor([1, 2, 3], f64).reshape([3, 1]));
    expect(arr(m)).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });
});

// ---- properties against the reference loops ------------------------------------------------------------------

interface FwdCase<P> {
  readonly shapes: number[][];
  readonly p: P;
}
interface FwdRow<P = never> {
  readonly name: string;
  readonly cases: fc.Arbitrary<FwdCase<P>>;
  readonly kinds?: Kind | readonly Kind[];
  /** Dtypes drawn for the inputs (default float64 and float32). */
  readonly dtypes?: readonly DType[];
  readonly run: (xs: Tensor[], p: P) => Tensor | readonly Tensor[];
  readonly ref: (xs: ref.Arr[], p: P, dtype: DType) => ref.Arr | readonly ref.Arr[];
}
const fwd = <P>(r: FwdRow<P>) => r as unknown as FwdRow<unknown>;
const noP = (a: fc.Arbitrary<number[][]>) => a.map((shapes) => ({ shapes, p: undefined }));
const one = noP(shapeArb(0, 3).map((s) => [s]));
const pair = noP(broadcastShapesArb(2));
const unaryF = (name: string, run: (x: Tensor) => Tensor, f: (v: number) => number, kinds: Kind = 'any') =>
  fwd({ name, cases: one, kinds, run: ([x]) => run(x!), ref: ([a]) => ref.elementwise(f, a!) });
const binaryF = (
  name: string,
  run: (a: Tensor, b: Tensor) => Tensor,
  f: (a: number, b: number) => number,
  kinds: Kind[] = ['any', 'any'],
  dtypes?: DType[],
) =>
  fwd({
    name,
    cases: pair,
    kinds,
    dtypes,
    run: ([a, b]) => run(a!, b!),
    ref: ([a, b]) => ref.elementwise(f, a!, b!),
  });

const INT: DType[] = ['int32'];
const axesOf = (axes: number | number[] | undefined, rank: number) =>
  axes === undefined
    ? Array.from({ length: rank }, (_, i) => i)
    : (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, rank)).sort((a, b) => a - b);
const reductionCase = (nonEmpty: boolean) =>
  shapeArb(0, 3).chain((s) =>
    fc.tuple(axesArb(s.length), fc.boolean()).map(([axes, keepdim]) => {
      const ax = axesOf(axes, s.length);
      return {
        shapes: [nonEmpty ? s.map((d, i) => (ax.includes(i) ? Math.max(1, d) : d)) : s],
        p: { axes, keepdim },
      };
    }),
  );
const i32t = (data: readonly number[], shape: readonly number[]) =>
  tensor([...data], { dtype: 'int32', shape });

const FORWARD: FwdRow<unknown>[] = [
  binaryF('add', core.add, (a, b) => a + b),
  binaryF('sub', core.sub, (a, b) => a - b),
  binaryF('mul', core.mul, (a, b) => a * b),
  binaryF('div', core.div, (a, b) => a / b, ['any', 'away']),
  binaryF('pow', core.pow, (a, b) => a ** b, ['pos', 'any']),
  binaryF('maximum', core.maximum, Math.max),
  binaryF('minimum', core.minimum, Math.min),
  binaryF('int32 add', core.add, (a, b) => a + b, ['int', 'int'], INT),
  binaryF('int32 mul', core.mul, (a, b) => a * b, ['int', 'int'], INT),
  binaryF('int32 div truncates', core.div, (a, b) => Math.trunc(a / b), ['int', 'intNonZero'], INT),
  binaryF('int32 maximum', core.maximum, Math.max, ['int', 'int'], INT),
  unaryF('exp', core.exp, Math.exp),
  unaryF('log', core.log, Math.log, 'pos'),
  unaryF('sqrt', core.sqrt, Math.sqrt, 'pos'),
  unaryF('tanh', core.tanh, Math.tanh),
  unaryF('sigmoid', core.sigmoid, (v) => 1 / (1 + Math.exp(-v))),
  unaryF('relu', core.relu, (v) => Math.max(v, 0)),
  unaryF('abs', core.abs, Math.abs),
  unaryF('neg', core.neg, (v) => -v),
  unaryF(
    'clamp',
    (x) => core.clamp(x, -0.5, 1),
    (v) => Math.min(1, Math.max(-0.5, v)),
  ),
  fwd({
    name: 'where',
    cases: broadcastShapesArb(3).chain(([c, a, b]) =>
      fc.array(fc.boolean(), { minLength: sizeOf(c!), maxLength: sizeOf(c!) }).map((cond) => ({
        shapes: [a!, b!],
        p: { cshape: c!, cond: cond.map(Number) },
      })),
    ),
    run: ([a, b], { cshape, cond }) => core.where(i32t(cond, cshape), a!, b!),
    ref: ([a, b], { cshape, cond }) =>
      ref.elementwise((c, x, y) => (c ? x : y), { shape: cshape, data: cond }, a!, b!),
  }),
  ...(['sum', 'mean', 'max', 'min'] as const).map((op) =>
    fwd({
      name: `${op} over axes, keepdim`,
      cases: reductionCase(op !== 'sum'),
      run: ([x], { axes, keepdim }) => core[op](x!, axes, { keepdim }),
      ref: ([x], { axes, keepdim }) => ref.reduce(op, x!, axesOf(axes, x!.shape.length), keepdim),
    }),
  ),
  fwd({
    name: 'int32 sum and max',
    cases: reductionCase(true),
    kinds: 'int',
    dtypes: INT,
    run: ([x], { axes, keepdim }) => [core.sum(x!, axes, { keepdim }), core.max(x!, axes, { keepdim })],
    ref: ([x], { axes, keepdim }) => [
      ref.reduce('sum', x!, axesOf(axes, x!.shape.length), keepdim),
      ref.reduce('max', x!, axesOf(axes, x!.shape.length), keepdim),
    ],
  }),
  fwd({
    name: 'argmax/argmin along an axis (first index at ties: small integers tie often)',
    cases: shapeArb(1, 3, 1).chain((s) =>
      fc
        .tuple(axisArb(s.length), fc.boolean())
        .map(([axis, keepdim]) => ({ shapes: [s], p: { axis, keepdim } })),
    ),
    kinds: 'int',
    dtypes: ['float64', 'int32'],
    run: ([x], { axis, keepdim }) => [core.argmax(x!, axis, { keepdim }), core.argmin(x!, axis, { keepdim })],
    ref: ([x], { axis, keepdim }) => [
      ref.reduce('argmax', x!, [normAxis(axis, x!.shape.length)], keepdim),
      ref.reduce('argmin', x!, [normAxis(axis, x!.shape.length)], keepdim),
    ],
  }),
  ...(['softmax', 'logSoftmax'] as const).map((op) =>
    fwd({
      name: `${op} any axis`,
      cases: shapeArb(1, 3).chain((s) => axisArb(s.length).map((axis) => ({ shapes: [s], p: axis }))),
      run: ([x], axis) => core[op](x!, axis),
      ref: ([x], axis) => ref.softmax(x!, normAxis(axis, x!.shape.length), op === 'logSoftmax'),
    }),
  ),
  fwd({
    name: 'matmul (batched, broadcast batch, 1-D, transposes)',
    cases: fc
      .record({
        m: dim(0, 4),
        k: dim(0, 4),
        n: dim(0, 4),
        batch: broadcastShapesArb(2, 2, 1, 3),
        a1: fc.boolean(),
        b1: fc.boolean(),
        transA: fc.boolean(),
        transB: fc.boolean(),
      })
      .map(({ m, k, n, batch, a1, b1, transA, transB }) => {
        // 1-D operands take no batch and no transpose.
        const ta = transA && !a1;
        const tb = transB && !b1;
        return {
          shapes: [
            a1 ? [k] : [...batch[0]!, ...(ta ? [k, m] : [m, k])],
            b1 ? [k] : [...batch[1]!, ...(tb ? [n, k] : [k, n])],
          ],
          p: { transA: ta, transB: tb },
        };
      }),
    run: ([a, b], p) => core.matmul(a!, b!, p),
    ref: ([a, b], p) => {
      const tr = (x: ref.Arr, t: boolean) => {
        if (!t) return x;
        const r = x.shape.length;
        return ref.permute(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
      };
      return ref.matmul(tr(a!, p.transA), tr(b!, p.transB));
    },
  }),
  fwd({
    name: 'permute then reshape (a copy or a view, same values)',
    cases: shapeArb(1, 3).chain((s) =>
      fc
        .shuffledSubarray(
          s.map((_, i) => i),
          { minLength: s.length, maxLength: s.length },
        )
        .map((order) => ({ shapes: [s], p: order })),
    ),
    run: ([x], order) => {
      const p = core.permute(x!, order);
      const f = core.reshape(p, [-1]);
      return [p, f, core.reshape(f, p.shape)];
    },
    ref: ([x], order) => {
      const y = ref.permute(x!, order);
      return [y, { shape: [y.data.length], data: y.data }, y];
    },
  }),
  fwd({
    name: 'narrow then cat',
    cases: shapeArb(1, 3, 1).chain((s) =>
      axisArb(s.length).chain((axis) => {
        const n = s[normAxis(axis, s.length)]!;
        return fc.tuple(fc.integer({ min: 0, max: n }), dim(0, 3)).map(([start, other]) => ({
          shapes: [s, s.map((d, i) => (i === normAxis(axis, s.length) ? other : d))],
          p: { axis, start },
        }));
      }),
    ),
    run: ([x, y], { axis, start }) => {
      const n = x!.shape[normAxis(axis, x!.rank)]!;
      return core.cat([core.narrow(x!, axis, start, n - start), y!, x!], axis);
    },
    ref: ([x, y], { axis, start }) => {
      const a = normAxis(axis, x!.shape.length);
      return ref.cat([ref.narrow(x!, a, start, x!.shape[a]! - start), y!, x!], a);
    },
  }),
  fwd({
    name: 'gather / indexSelect / scatterAdd',
    cases: shapeArb(1, 3, 1).chain((s) =>
      axisArb(s.length).chain((axis) => {
        const a = normAxis(axis, s.length);
        return fc.tuple(...s.map((d, i) => (i === a ? dim(0, 4) : dim(0, d)))).chain((ishape) =>
          fc.tuple(indicesArb(s[a]!, sizeOf(ishape)), dim(0, 4), layoutArb).chain(([index, len, il]) =>
            indicesArb(s[a]!, len).map((sel) => ({
              shapes: [s, ishape],
              p: { axis, ishape, index, sel, il },
            })),
          ),
        );
      }),
    ),
    run: ([x, src], { axis, ishape, index, sel, il }) => {
      // Index tensors are strided views too (transposed, or narrowed at an offset).
      const idx = makeInput(index, ishape, { dtype: 'int32', layout: il });
      return [
        core.gather(x!, axis, idx),
        core.indexSelect(x!, axis, makeInput(sel, [sel.length], { dtype: 'int32', layout: il })),
        core.scatterAdd(x!, axis, idx, src!),
      ];
    },
    ref: ([x, src], { axis, ishape, index, sel }) => {
      const a = normAxis(axis, x!.shape.length);
      const idx = { shape: ishape, data: index };
      return [ref.gather(x!, a, idx), ref.indexSelect(x!, a, sel), ref.scatterAdd(x!, a, idx, src!)];
    },
  }),
];

const kindOf = (r: FwdRow<unknown>, k: number): Kind =>
  r.kinds === undefined ? 'any' : typeof r.kinds === 'string' ? r.kinds : (r.kinds[k] ?? 'any');
const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);

describe('forward values match the reference loops (random shapes, dtypes, strided layouts)', () => {
  for (const r of FORWARD) {
    it(r.name, () => {
      const arb = fc
        .tuple(r.cases, fc.constantFrom(...(r.dtypes ?? (['float64', 'float32'] as DType[]))))
        .chain(([c, dtype]) =>
          fc.record({
            c: fc.constant(c),
            dtype: fc.constant(dtype),
            values: fc.tuple(...c.shapes.map((s, k) => valuesArb(kindOf(r, k), sizeOf(s), dtype))),
            layouts: fc.tuple(...c.shapes.map(() => layoutArb)),
          }),
        );
      fc.assert(
        fc.property(arb, ({ c, dtype, values, layouts }) => {
          core.tidy(() => {
            const xs = c.shapes.map((s, k) =>
              makeInput(values[k]!, s, { dtype, layout: layouts[k] as Layout }),
            );
            // The inputs read back as written, whatever their layout.
            xs.forEach((x, k) =>
              expect(flat(x)).toEqual(values[k]!.map(dtype === 'float32' ? Math.fround : Number)),
            );

            const got = list(r.run(xs, c.p));
            const round = dtype === 'float32' ? Math.fround : Number;
            const want = list(
              r.ref(
                c.shapes.map((s, k) => ({ shape: s, data: values[k]!.map(round) })),
                c.p,
                dtype,
              ),
            );
            const tol = dtype === 'float64' ? 1e-12 : dtype === 'float32' ? 1e-5 : 0;
            expect(got.length).toBe(want.length);
            got.forEach((g, i) => {
              expect(g.shape).toEqual(want[i]!.shape);
              expect(mismatch(flat(g), want[i]!.data, tol)).toBeNull();
            });
          });
        }),
        runs(60),
      );
    });
  }
});

// ---- golden values from PyTorch -------------------------------------------------------------------------------

/**
 * Fixtures written once by Debian's PyTorch 1.13 (scripts/golden/make_fixtures.py): each case has float64 (or
 * int32) inputs, params saying how the op was called, the outputs, and the gradients of sum(output * R).
 */
interface FixtureTensor {
  readonly shape: number[];
  readonly dtype: 'float64' | 'int32';
  readonly data: number[];
}
interface FixtureCase {
  readonly name: string;
  readonly inputs: Record<string, FixtureTensor>;
  readonly params: Record<string, unknown> & { readonly op: string };
  readonly outputs: Record<string, FixtureTensor>;
  readonly grads: Record<string, FixtureTensor>;
}
const FIXTURES = ['matmul', 'softmax', 'losses', 'reductions', 'elementwise'] as const;
const fixtureUrl = (name: string) => new URL(`./fixtures/${name}.json`, import.meta.url);
const loadFixture = (t: FixtureTensor, requiresGrad = false) =>
  tensor(t.data, { shape: t.shape, dtype: t.dtype, requiresGrad });

const UNARY_GOLDEN: Record<string, (x: Tensor) => Tensor> = {
  exp: core.exp,
  log: core.log,
  sqrt: core.sqrt,
  tanh: core.tanh,
  sigmoid: core.sigmoid,
  relu: core.relu,
  abs: core.abs,
  neg: core.neg,
};
const BINARY_GOLDEN: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add: core.add,
  sub: core.sub,
  mul: core.mul,
  div: core.div,
  pow: core.pow,
  maximum: core.maximum,
  minimum: core.minimum,
};

/** Call the op a case describes (PyTorch's names in params.op), returning its named outputs. */
function callGolden(c: FixtureCase, x: Record<string, Tensor>): Record<string, Tensor> {
  const p = c.params;
  const axis = p.axis === null || p.axis === undefined ? undefined : (p.axis as number | number[]);
  const keepdim = p.keepdim === true;
  const reduction = p.reduction as core.Reduction;
  switch (p.op) {
    case 'matmul':
      return { output: core.matmul(x.a!, x.b!, { transA: p.transA === true, transB: p.transB === true }) };
    case 'softmax':
      return { output: core.softmax(x.x!, p.axis as number) };
    case 'log_softmax':
    case 'logSoftmax':
      return { output: core.logSoftmax(x.x!, p.axis as number) };
    case 'nll_loss':
    case 'nll':
      return { output: core.nll(x.x!, x.target!, reduction) };
    case 'cross_entropy':
    case 'crossEntropy':
      return { output: core.crossEntropy(x.x!, x.target!, reduction) };
    case 'mse_loss':
    case 'mse':
      return { output: core.mse(x.x!, x.target!, reduction) };
    case 'binary_cross_entropy':
    case 'bce':
      return { output: core.bce(x.x!, x.target!, reduction) };
    case 'sum':
    case 'mean':
      return { output: core[p.op](x.x!, axis, { keepdim }) };
    case 'max':
    case 'min': {
      const output = core[p.op](x.x!, axis, { keepdim });
      if (axis === undefined) return { output };
      const arg = p.op === 'max' ? core.argmax : core.argmin;
      return { output, indices: arg(x.x!, axis as number, { keepdim }) };
    }
    case 'argmax':
    case 'argmin':
      return { output: core[p.op](x.x!, axis as number | undefined, { keepdim }) };
    case 'hardtanh':
      return { output: core.hardtanh(x.x!, p.min as number, p.max as number) };
    case 'clamp':
      return { output: core.clamp(x.x!, p.min as number, p.max as number) };
  }
  if (UNARY_GOLDEN[p.op]) return { output: UNARY_GOLDEN[p.op]!(x.x!) };
  if (BINARY_GOLDEN[p.op]) return { output: BINARY_GOLDEN[p.op]!(x.a!, x.b!) };
  throw new Error(`golden case '${c.name}': no mapping for op '${p.op}'; add one to callGolden`);
}

/** float64 outputs and grads within 1e-10 (relative above 1); int32 outputs exactly. */
function expectFixture(got: Tensor, want: FixtureTensor, what: string) {
  expect(got.shape, what).toEqual(want.shape);
  if (want.dtype === 'int32') {
    expect(got.dtype, what).toBe('int32');
    expect(flat(got), what).toEqual(want.data);
  } else {
    expect(got.dtype, what).toBe('float64');
    expect(mismatch(flat(got), want.data, 1e-10), what).toBeNull();
  }
}

describe('golden values from PyTorch (fixtures/*.json)', () => {
  for (const name of FIXTURES) {
    describe(`${name}.json`, () => {
      const file = JSON.parse(readFileSync(fixtureUrl(name), 'utf8')) as { cases: FixtureCase[] };
      it('has cases', () => expect(file.cases.length).toBeGreaterThan(0));
      it.each(file.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
        core.tidy(() => {
          const xs: Record<string, Tensor> = {};
          for (const [k, t] of Object.entries(c.inputs)) {
            if (k !== 'R') xs[k] = loadFixture(t, k in c.grads);
          }
          const outs = callGolden(c, xs);
          expect(Object.keys(outs).sort()).toEqual(Object.keys(c.outputs).sort());
          for (const [k, want] of Object.entries(c.outputs)) expectFixture(outs[k]!, want, `output ${k}`);
          const gradNames = Object.keys(c.grads);
          if (gradNames.length === 0) return;
          core.sum(core.mul(outs.output!, loadFixture(c.inputs.R!))).backward();
          for (const k of gradNames) {
            expect(xs[k]!.grad, `grad ${k}`).not.toBeNull();
            expectFixture(xs[k]!.grad!, c.grads[k]!, `grad ${k}`);
          }
        });
      });
    });
  }
});
