import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { tensor } from '@webrnn/core';

const arr = (t: core.Tensor) => t.toArraySync();

describe('forward values, hand-computed', () => {
  it('broadcasting arithmetic and int32 semantics', () => {
    const a = tensor([[1], [2]]);
    const b = tensor([10, 20, 30]);
    expect(arr(core.add(a, b))).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(arr(core.sub(b, 1))).toEqual([9, 19, 29]);
    expect(arr(core.div(tensor([7, -7], { dtype: 'int32' }), 2))).toEqual([3, -3]);
    expect(arr(core.maximum(tensor([1, 5]), 3))).toEqual([3, 5]);
    expect(arr(core.where(tensor([1, 0]), tensor([1, 2]), tensor([8, 9])))).toEqual([1, 9]);
    expect(arr(core.hardtanh(tensor([-3, 0.5, 3])))).toEqual([-1, 0.5, 1]);
    expect(arr(core.relu(tensor([-1, 2])))).toEqual([0, 2]);
  });

  it('reductions with keepdim and negative axes; argmax takes the first of ties', () => {
    const x = tensor([
      [1, 5, 5],
      [7, 0, 2],
    ]);
    expect(arr(core.sum(x, -1))).toEqual([11, 9]);
    expect(arr(core.sum(x, 0, { keepdim: true }))).toEqual([[8, 5, 7]]);
    expect(arr(core.mean(x))).toBeCloseTo(20 / 6);
    expect(arr(core.max(x, 1))).toEqual([5, 7]);
    expect(arr(core.min(x))).toBe(0);
    expect(arr(core.argmax(x, 1))).toEqual([1, 0]);
    expect(arr(core.argmax(x))).toBe(3);
    expect(core.argmax(x, 1).dtype).toBe('int32');
  });

  it('softmax is stable for large values', () => {
    const s = core.softmax(tensor([1000, 1000, -1000]));
    expect(arr(s)).toEqual([0.5, 0.5, 0]);
    const ls = core.logSoftmax(tensor([[0, Math.log(3)]]), -1).toArraySync() as number[][];
    expect(ls[0]![0]).toBeCloseTo(Math.log(0.25), 6);
  });

  it('views share storage; reshape of a non-contiguous view copies', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const t = x.t();
    expect(t.isContiguous).toBe(false);
    expect(arr(t.reshape([6]))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(arr(x.narrow(1, 1, 2))).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(arr(x.select(0, -1))).toEqual([4, 5, 6]);
    expect(x.reshape([3, 2]).storage).toBe(x.storage);
    expect(arr(x.slice(1, -2))).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(arr(core.expand(tensor([[1], [2]]), [2, 2]))).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('cat, stack, split and chunk follow PyTorch', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([[3, 4]]);
    expect(arr(core.cat([a, b], 0))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(core.stack([a, b], 1).shape).toEqual([1, 2, 2]);
    expect(core.split(core.arange(5), 2).map((t) => t.shape[0])).toEqual([2, 2, 1]);
    expect(core.chunk(core.arange(5), 3).map((t) => t.shape[0])).toEqual([2, 2, 1]);
    expect(core.chunk(core.arange(6), 4).map((t) => t.shape[0])).toEqual([2, 2, 2]);
  });

  it('indexing: indexSelect, gather, scatterAdd with repeated indices', () => {
    const w = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const idx = tensor([2, 0, 2], { dtype: 'int32' });
    expect(arr(core.indexSelect(w, 0, idx))).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(arr(core.gather(w, 1, tensor([[1], [0], [1]], { dtype: 'int32' })))).toEqual([[2], [3], [6]]);
    const s = core.scatterAdd(core.zeros([3]), 0, idx, tensor([1, 10, 100]));
    expect(arr(s)).toEqual([10, 0, 101]);
  });

  it('losses', () => {
    const logp = core.logSoftmax(tensor([[0, 0]]));
    expect(core.nll(logp, tensor([1], { dtype: 'int32' })).itemSync()).toBeCloseTo(Math.log(2), 6);
    expect(core.mse(tensor([1, 3]), tensor([0, 0])).itemSync()).toBe(5);
    expect(core.mse(tensor([1, 3]), tensor([0, 0]), 'sum').itemSync()).toBe(10);
    expect(core.bce(tensor([0.5]), tensor([1])).itemSync()).toBeCloseTo(Math.log(2), 6);
  });
});
