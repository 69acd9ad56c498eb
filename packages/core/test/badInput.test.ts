import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { WebrnnError, randn, tensor, zeros } from '@webrnn/core';

/** Bad calls, each with the message it must give: the op, what it got, what it expected. */
const i32 = (data: number[]) => tensor(data, { dtype: 'int32' });
const f64 = { dtype: 'float64' as const };

const CASES: [string, () => unknown, RegExp | string][] = [
  [
    'add: shapes that do not broadcast',
    () => core.add(randn([2, 3]), randn([4])),
    'add: shapes [2, 3] and [4] cannot be broadcast together',
  ],
  [
    'mul: dtype mismatch',
    () => core.mul(randn([2]), randn([2], f64)),
    'mul: dtype mismatch: float32 and float64; convert one with .cast(dtype)',
  ],
  ['sub: float and int', () => core.sub(randn([2]), i32([1, 2])), /sub: dtype mismatch: float32 and int32/],
  [
    'div: bad broadcast',
    () => core.div(randn([3]), randn([2])),
    /div: shapes \[3\] and \[2\] cannot be broadcast/,
  ],
  [
    'pow: int32',
    () => core.pow(i32([1]), i32([2])),
    'pow: input has dtype int32, expected float32 or float64',
  ],
  ['log: int32', () => core.log(i32([1, 2])), 'log: input has dtype int32, expected float32 or float64'],
  ['exp/tanh/sigmoid/sqrt: int32', () => core.sigmoid(i32([1])), /sigmoid: input has dtype int32/],
  ['clamp: min > max', () => core.clamp(randn([2]), 1, -1), 'clamp: needs min <= max, got min 1 and max -1'],
  [
    'where: bad broadcast',
    () => core.where(randn([3]), randn([2]), 0),
    /where: shapes \[3\] and \[2\] cannot be broadcast/,
  ],
  [
    'matmul: inner dims',
    () => core.matmul(randn([2, 3]), randn([2, 3])),
    'matmul: inner dimensions differ: [2, 3] x [2, 3] (3 vs 2)',
  ],
  [
    'matmul: scalar',
    () => core.matmul(randn([]), randn([2])),
    'matmul: needs tensors of rank >= 1, got [] and [2]',
  ],
  [
    'sum: axis out of range',
    () => core.sum(randn([2, 3]), 2),
    'sum: axis 2 is out of range for a tensor of rank 2',
  ],
  ['mean: repeated axis', () => core.mean(randn([2, 3]), [1, -1]), 'mean: repeated axis in [1, -1]'],
  ['mean: int32', () => core.mean(i32([1, 2])), 'mean: input has dtype int32, expected float32 or float64'],
  [
    'max: empty axis',
    () => core.max(zeros([0, 2]), 0),
    'max: cannot reduce an empty axis of a tensor of shape [0, 2]',
  ],
  ['argmax: axis', () => core.argmax(randn([2]), 1), 'argmax: axis 1 is out of range for a tensor of rank 1'],
  ['softmax: int32', () => core.softmax(i32([1, 2])), /softmax: input has dtype int32/],
  [
    'logSoftmax: axis',
    () => core.logSoftmax(randn([2, 2]), 3),
    'logSoftmax: axis 3 is out of range for a tensor of rank 2',
  ],
  [
    'reshape: size',
    () => core.reshape(randn([2, 3]), [4, 2]),
    'reshape: cannot reshape [2, 3] (6 elements) to [4, 2]',
  ],
  ['reshape: two -1', () => core.reshape(randn([2, 3]), [-1, -1]), /reshape: invalid shape \[-1, -1\]/],
  [
    'view: not viewable',
    () => core.view(randn([2, 3]).t(), [6]),
    /view: a tensor of shape \[3, 2\] with strides \[1, 3\] cannot be viewed as \[6\]; use reshape\(\)/,
  ],
  [
    'permute: not a permutation',
    () => core.permute(randn([2, 3]), [0, 0]),
    'permute: order [0, 0] is not a permutation of 2 axes',
  ],
  ['transpose: axis', () => core.transpose(randn([2, 3]), 0, 5), /transpose: axis 5 is out of range/],
  [
    'expand: incompatible',
    () => core.expand(randn([2, 3]), [4, 3]),
    'expand: cannot broadcast [2, 3] to [4, 3]',
  ],
  [
    'narrow: out of range',
    () => core.narrow(randn([2, 3]), 1, 2, 2),
    'narrow: start 2 and length 2 do not fit in axis 1 of size 3 (shape [2, 3])',
  ],
  [
    'select: out of range',
    () => core.select(randn([2, 3]), 0, 2),
    'select: index 2 is out of range for axis 0 of size 2 (shape [2, 3])',
  ],
  [
    'cat: shapes',
    () => core.cat([randn([2, 3]), randn([3, 3])], 1),
    'cat: tensor 1 has shape [3, 3], expected [2, 3] except along axis 1',
  ],
  [
    'cat: dtypes',
    () => core.cat([randn([2]), i32([1])]),
    'cat: tensor 1 has dtype int32, expected float32 like tensor 0',
  ],
  ['cat: empty', () => core.cat([]), 'cat: needs at least one tensor'],
  [
    'stack: shapes',
    () => core.stack([randn([2]), randn([3])]),
    'stack: tensor 1 has shape [3], expected [2]',
  ],
  [
    'split: sizes',
    () => core.split(randn([5]), [2, 2]),
    'split: sizes [2, 2] do not add up to 5, the size of axis 0',
  ],
  ['chunk: count', () => core.chunk(randn([5]), 0), 'chunk: chunks must be a positive integer, got 0'],
  [
    'indexSelect: index too large',
    () => core.indexSelect(randn([3, 2]), 0, i32([0, 3])),
    'indexSelect: index 3 at position 1 is out of range for axis 0 of shape [3, 2] of size 3',
  ],
  [
    'indexSelect: negative index',
    () => core.indexSelect(randn([3, 2]), 0, i32([-1])),
    /indexSelect: index -1 at position 0 is out of range/,
  ],
  [
    'indexSelect: float index',
    () => core.indexSelect(randn([3, 2]), 0, randn([1])),
    'indexSelect: index has dtype float32, expected int32',
  ],
  [
    'indexSelect: 2-D index',
    () => core.indexSelect(randn([3, 2]), 0, tensor([[0]], { dtype: 'int32' })),
    'indexSelect: index must be 1-D, got shape [1, 1]',
  ],
  [
    'gather: index out of range',
    () => core.gather(randn([2, 3]), 1, tensor([[0], [7]], { dtype: 'int32' })),
    /gather: index 7 at position 1 is out of range for axis 1/,
  ],
  [
    'gather: rank',
    () => core.gather(randn([2, 3]), 1, i32([0])),
    /gather: index of shape \[1\] does not fit input \[2, 3\]/,
  ],
  [
    'scatterAdd: src too small',
    () => core.scatterAdd(randn([2, 3]), 1, tensor([[0, 1]], { dtype: 'int32' }), randn([1, 1])),
    'scatterAdd: src of shape [1, 1] must cover index of shape [1, 2]',
  ],
  [
    'nll: target out of range',
    () => core.nll(randn([2, 3]), i32([0, 3])),
    /nll: target value 3 at position 1 is out of range for axis 1 of shape \[2, 3\] of size 3 \(3 classes\)/,
  ],
  [
    'nll: negative target',
    () => core.nll(randn([2, 3]), i32([-1, 0])),
    /nll: target value -1 at position 0 is out of range/,
  ],
  [
    'nll: target dtype',
    () => core.nll(randn([2, 3]), randn([2])),
    'nll: target has dtype float32, expected int32',
  ],
  [
    'nll: target shape',
    () => core.nll(randn([2, 3]), i32([0])),
    'nll: expected input [N, C] and target [N], got input [2, 3] and target [1]',
  ],
  [
    'nll: reduction',
    () => core.nll(randn([2, 3]), i32([0, 1]), 'avg' as 'mean'),
    "nll: reduction must be 'mean', 'sum' or 'none', got 'avg'",
  ],
  [
    'crossEntropy: target out of range',
    () => core.crossEntropy(randn([1, 2]), i32([2])),
    /nll: target value 2/,
  ],
  [
    'mse: shapes',
    () => core.mse(randn([2, 3]), randn([3, 2])),
    'mse: input has shape [2, 3] but target has shape [3, 2]',
  ],
  ['bce: dtypes', () => core.bce(randn([2]), randn([2], f64)), 'bce: input is float32 but target is float64'],
  [
    'lstmCell: shapes',
    () => core.lstmCell(randn([2, 8]), randn([2, 3])),
    /lstmCell: expected gates \[N, 4H\] and cPrev \[N, H\]/,
  ],
  ['tensor: ragged', () => tensor([[1, 2], [3]]), /tensor: nested arrays are ragged/],
  ['tensor: shape', () => tensor([1, 2, 3], { shape: [2, 2] }), 'tensor: 3 values cannot take shape [2, 2]'],
  [
    'zeros: bad shape',
    () => zeros([2, -1]),
    'full: shape must be a list of non-negative integers, got [2,-1]',
  ],
  [
    'arange: zero step',
    () => core.arange(0, 3, 0),
    'arange: needs finite start/end and a non-zero step, got 0, 3, 0',
  ],
  [
    'item: many elements',
    () => randn([2]).itemSync(),
    'item: needs a tensor with one element, got shape [2]',
  ],
  [
    'requiresGrad: int32',
    () => i32([1]).requiresGrad_(),
    'requiresGrad: int32 tensors cannot require gradients; only float32 and float64 can',
  ],
  [
    'to: unknown device',
    () => randn([1]).to('tpu' as 'cpu'),
    "device: unknown device 'tpu', expected 'cpu' or 'webgpu'",
  ],
];

describe('bad input gives a clear error naming the op, what it got and what it expected', () => {
  it.each(CASES)('%s', (_name, call, message) => {
    expect(call).toThrow(WebrnnError);
    expect(call).toThrow(message);
  });

  it('every op refuses a disposed tensor, naming it', () => {
    const dead = randn([2, 2]);
    dead.dispose();
    const ops: [string, () => unknown][] = [
      ['add', () => core.add(dead, randn([2, 2]))],
      ['matmul', () => core.matmul(dead, randn([2, 2]))],
      ['sum', () => core.sum(dead)],
      ['softmax', () => core.softmax(dead)],
      ['reshape', () => core.reshape(dead, [4])],
      ['cat', () => core.cat([dead])],
      ['indexSelect', () => core.indexSelect(dead, 0, i32([0]))],
      ['exp', () => core.exp(dead)],
      ['data', () => dead.dataSync()],
    ];
    for (const [op, call] of ops) {
      expect(call, op).toThrow(/tensor #\d+ of shape \[2, 2\] was disposed and cannot be used/);
    }
  });
});
