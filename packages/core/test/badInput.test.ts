import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, WebrnnError, randn, tensor, zeros } from '@webrnn/core';

/**
 * Bad calls, each with the message it must give: the op's name, what it got, and what it expected. Exact strings
 * where the whole message matters, patterns where part of it (a tensor id) varies.
 */
const i32 = (data: core.NestedArray) => tensor(data, { dtype: 'int32' });
const f64 = { dtype: 'float64' as const };
const r = (...shape: number[]) => randn(shape);
const r64 = (...shape: number[]) => randn(shape, f64);

type Case = readonly [name: string, call: () => unknown, message: string | RegExp];

const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
const FLOAT_ONLY = [
  'exp',
  'log',
  'sqrt',
  'tanh',
  'sigmoid',
  'reciprocal',
  'cos',
  'sin',
  'softmax',
  'logSoftmax',
] as const;

const CASES: Case[] = [
  // ---- elementwise: shapes and dtypes, for every binary op
  ...BINARY.map(
    (op): Case => [
      `${op}: shapes that do not broadcast`,
      () => core[op](r(2, 3), r(4)),
      `${op}: shapes [2, 3] and [4] cannot be broadcast together`,
    ],
  ),
  ...BINARY.map(
    (op): Case => [
      `${op}: float32 with float64`,
      () => core[op](r(2), r64(2)),
      `${op}: dtype mismatch: float32 and float64; convert one with .cast(dtype)`,
    ],
  ),
  [
    'add: float32 with int32',
    () => core.add(r(2), i32([1, 2])),
    'add: dtype mismatch: float32 and int32; convert one with .cast(dtype)',
  ],
  [
    'sub: empty against size 2',
    () => core.sub(zeros([0]), r(2)),
    'sub: shapes [0] and [2] cannot be broadcast together',
  ],
  ...FLOAT_ONLY.map(
    (op): Case => [
      `${op}: int32 input`,
      () => core[op](i32([1, 2])),
      `${op}: input has dtype int32, expected float32 or float64`,
    ],
  ),
  [
    'pow: int32 base (any exponent)',
    () => core.pow(i32([2]), 2),
    'pow: input has dtype int32, expected float32 or float64',
  ],
  [
    'pow: int32 tensors',
    () => core.pow(i32([1]), i32([2])),
    'pow: input has dtype int32, expected float32 or float64',
  ],
  [
    'div: int32 by a fraction',
    () => core.div(i32([7]), 2.5),
    'div: an int32 tensor can only be divided by an integer, got 2.5; cast it to a float dtype first',
  ],
  ['clamp: min > max', () => core.clamp(r(2), 1, -1), 'clamp: needs min <= max, got min 1 and max -1'],
  [
    'clamp: NaN bound',
    () => core.clamp(r(2), Number.NaN, 1),
    'clamp: needs min <= max, got min NaN and max 1',
  ],
  [
    'hardtanh: min > max',
    () => core.hardtanh(r(2), 1, -1),
    'hardtanh: needs min <= max, got min 1 and max -1',
  ],
  [
    'where: condition does not broadcast',
    () => core.where(r(3), r(2), r(2)),
    'where: shapes [3] and [2] cannot be broadcast together',
  ],
  [
    'where: branches do not broadcast',
    () => core.where(r(1), r(2), r(3)),
    'where: shapes [2] and [3] cannot be broadcast together',
  ],
  [
    'where: branch dtypes',
    () => core.where(r(2), r(2), r64(2)),
    'where: dtype mismatch: float32 and float64; convert one with .cast(dtype)',
  ],
  ['where: two numbers', () => core.where(r(2), 1, 2), 'where: needs at least one of a and b to be a tensor'],

  // ---- matmul
  [
    'matmul: inner dims',
    () => core.matmul(r(2, 3), r(2, 3)),
    'matmul: inner dimensions differ: [2, 3] x [2, 3] (3 vs 2)',
  ],
  [
    'matmul: inner dims after transB',
    () => core.matmul(r(2, 3), r(2, 4), { transB: true }),
    'matmul: inner dimensions differ: [2, 3] x [4, 2] (3 vs 4) after the requested transposes',
  ],
  [
    'matmul: 1-D inner dims',
    () => core.matmul(r(3), r(4)),
    'matmul: inner dimensions differ: [3] x [4] (3 vs 4)',
  ],
  [
    'matmul: batch dims',
    () => core.matmul(r(2, 2, 3), r(3, 3, 4)),
    'matmul: batch dims [2] of [2, 2, 3] and [3] of [3, 3, 4] cannot be broadcast together',
  ],
  [
    'matmul: dtypes',
    () => core.matmul(r(2, 3), r64(3, 2)),
    'matmul: dtype mismatch: float32 and float64; convert one with .cast(dtype)',
  ],
  [
    'matmul: a scalar',
    () => core.matmul(randn([]), r(2)),
    'matmul: needs tensors of rank >= 1, got [] and [2]',
  ],

  // ---- reductions
  [
    'sum: axis out of range',
    () => core.sum(r(2, 3), 2),
    'sum: axis 2 is out of range for a tensor of rank 2',
  ],
  [
    'sum: negative axis out of range',
    () => core.sum(r(2, 3), -3),
    'sum: axis -3 is out of range for a tensor of rank 2',
  ],
  [
    'sum: fractional axis',
    () => core.sum(r(2, 3), 0.5),
    'sum: axis 0.5 is out of range for a tensor of rank 2',
  ],
  ['mean: repeated axis', () => core.mean(r(2, 3), [1, -1]), 'mean: repeated axis in [1, -1]'],
  ['mean: int32', () => core.mean(i32([1, 2])), 'mean: input has dtype int32, expected float32 or float64'],
  [
    'max: empty axis',
    () => core.max(zeros([0, 2]), 0),
    'max: cannot reduce an empty axis of a tensor of shape [0, 2]',
  ],
  [
    'min: empty tensor',
    () => core.min(zeros([0])),
    'min: cannot reduce an empty axis of a tensor of shape [0]',
  ],
  ['argmax: axis', () => core.argmax(r(2), 1), 'argmax: axis 1 is out of range for a tensor of rank 1'],
  [
    'argmin: empty axis',
    () => core.argmin(zeros([2, 0]), 1),
    'argmin: cannot reduce an empty axis of shape [2, 0]',
  ],
  ['softmax: axis', () => core.softmax(r(2, 2), 2), 'softmax: axis 2 is out of range for a tensor of rank 2'],
  [
    'logSoftmax: axis',
    () => core.logSoftmax(r(2, 2), -3),
    'logSoftmax: axis -3 is out of range for a tensor of rank 2',
  ],

  // ---- shape ops
  [
    'reshape: size',
    () => core.reshape(r(2, 3), [4, 2]),
    'reshape: cannot reshape [2, 3] (6 elements) to [4, 2]',
  ],
  [
    'reshape: -1 that does not divide',
    () => core.reshape(r(2, 3), [-1, 4]),
    'reshape: cannot reshape [2, 3] (6 elements) to [-1, 4]',
  ],
  [
    'reshape: two -1',
    () => core.reshape(r(2, 3), [-1, -1]),
    'reshape: invalid shape [-1, -1] (at most one -1, other entries non-negative)',
  ],
  [
    'reshape: fractional size',
    () => core.reshape(r(4), [2.5, 2]),
    'reshape: invalid shape [2.5, 2] (at most one -1, other entries non-negative)',
  ],
  [
    'view: not viewable',
    () => core.view(r(2, 3).t(), [6]),
    'view: a tensor of shape [3, 2] with strides [1, 3] cannot be viewed as [6]; use reshape()',
  ],
  ['view: size', () => core.view(r(3), [-1, 2]), 'view: cannot reshape [3] (3 elements) to [-1, 2]'],
  [
    'flatten: start after end',
    () => core.flatten(r(2, 3, 4), 2, 0),
    'flatten: start axis 2 comes after end axis 0 for a tensor of shape [2, 3, 4]',
  ],
  ['squeeze: axis', () => core.squeeze(r(2), 1), 'squeeze: axis 1 is out of range for a tensor of rank 1'],
  [
    'unsqueeze: axis',
    () => core.unsqueeze(r(2), 2),
    'unsqueeze: axis 2 is out of range for a tensor of rank 2',
  ],
  [
    'permute: repeated',
    () => core.permute(r(2, 3), [0, 0]),
    'permute: order [0, 0] is not a permutation of 2 axes',
  ],
  [
    'permute: too short',
    () => core.permute(r(2, 3), [1]),
    'permute: order [1] is not a permutation of 2 axes',
  ],
  [
    'transpose: axis',
    () => core.transpose(r(2, 3), 0, 5),
    'transpose: axis 5 is out of range for a tensor of rank 2',
  ],
  ['expand: incompatible', () => core.expand(r(2, 3), [4, 3]), 'expand: cannot broadcast [2, 3] to [4, 3]'],
  ['expand: fewer dims', () => core.expand(r(2, 3), [3]), 'expand: cannot broadcast [2, 3] to [3]'],
  [
    'expand: -1 in a new leading dim',
    () => core.expand(r(2), [-1, 2]),
    'expand: cannot expand [2] to [-1, 2]: sizes must be non-negative integers, or -1 to keep an existing dim (not in a new leading dim)',
  ],
  [
    'narrow: out of range',
    () => core.narrow(r(2, 3), 1, 2, 2),
    'narrow: start 2 and length 2 do not fit in axis 1 of size 3 (shape [2, 3])',
  ],
  [
    'narrow: negative start too far',
    () => core.narrow(r(3), 0, -5, 1),
    'narrow: start -5 and length 1 do not fit in axis 0 of size 3 (shape [3])',
  ],
  [
    'narrow: negative length',
    () => core.narrow(r(3), 0, 0, -1),
    'narrow: start 0 and length -1 do not fit in axis 0 of size 3 (shape [3])',
  ],
  [
    'select: too large',
    () => core.select(r(2, 3), 0, 2),
    'select: index 2 is out of range for axis 0 of size 2 (shape [2, 3])',
  ],
  [
    'select: too negative',
    () => core.select(r(2, 3), 1, -4),
    'select: index -4 is out of range for axis 1 of size 3 (shape [2, 3])',
  ],
  [
    'cat: shapes',
    () => core.cat([r(2, 3), r(3, 3)], 1),
    'cat: tensor 1 has shape [3, 3], expected [2, 3] except along axis 1',
  ],
  [
    'cat: ranks',
    () => core.cat([r(2, 3), r(3)]),
    'cat: tensor 1 has shape [3], expected [2, 3] except along axis 0',
  ],
  [
    'cat: dtypes',
    () => core.cat([r(2), i32([1])]),
    'cat: tensor 1 has dtype int32, expected float32 like tensor 0',
  ],
  ['cat: no tensors', () => core.cat([]), 'cat: needs at least one tensor'],
  ['cat: axis', () => core.cat([r(2)], 1), 'cat: axis 1 is out of range for a tensor of rank 1'],
  ['stack: shapes', () => core.stack([r(2), r(3)]), 'stack: tensor 1 has shape [3], expected [2]'],
  [
    'stack: dtypes',
    () => core.stack([r(2), r64(2)]),
    'cat: tensor 1 has dtype float64, expected float32 like tensor 0',
  ],
  ['stack: no tensors', () => core.stack([]), 'stack: needs at least one tensor'],
  [
    'split: sizes',
    () => core.split(r(5), [2, 2]),
    'split: sizes [2, 2] do not add up to 5, the size of axis 0',
  ],
  ['split: size 0', () => core.split(r(5), 0), 'split: split size must be a positive integer, got 0'],
  ['chunk: count', () => core.chunk(r(5), 0), 'chunk: chunks must be a positive integer, got 0'],
  [
    'chunk: fractional count',
    () => core.chunk(r(5), 1.5),
    'chunk: chunks must be a positive integer, got 1.5',
  ],

  // ---- indexing
  [
    'indexSelect: index too large',
    () => core.indexSelect(r(3, 2), 0, i32([0, 3])),
    'indexSelect: index 3 at position 1 is out of range for axis 0 of shape [3, 2] (expected 0 <= index < 3)',
  ],
  [
    'indexSelect: negative index',
    () => core.indexSelect(r(3, 2), 1, i32([-1])),
    'indexSelect: index -1 at position 0 is out of range for axis 1 of shape [3, 2] (expected 0 <= index < 2)',
  ],
  [
    'indexSelect: float index',
    () => core.indexSelect(r(3, 2), 0, r(1)),
    'indexSelect: index has dtype float32, expected int32',
  ],
  [
    'indexSelect: 2-D index',
    () => core.indexSelect(r(3, 2), 0, i32([[0]])),
    'indexSelect: index must be 1-D, got shape [1, 1]',
  ],
  [
    'gather: index too large',
    () => core.gather(r(2, 3), 1, i32([[0], [7]])),
    'gather: index 7 at position 1 is out of range for axis 1 of shape [2, 3] (expected 0 <= index < 3)',
  ],
  [
    'gather: negative index',
    () => core.gather(r(2, 3), 0, i32([[-2, 0, 0]])),
    'gather: index -2 at position 0 is out of range for axis 0 of shape [2, 3] (expected 0 <= index < 2)',
  ],
  [
    'gather: index rank',
    () => core.gather(r(2, 3), 1, i32([0])),
    'gather: index of shape [1] does not fit input [2, 3]: same rank, and no larger off axis 1',
  ],
  [
    'gather: index larger off the axis',
    () => core.gather(r(2, 3), 1, zeros([3, 1], { dtype: 'int32' })),
    'gather: index of shape [3, 1] does not fit input [2, 3]: same rank, and no larger off axis 1',
  ],
  [
    'gather: float index',
    () => core.gather(r(2), 0, r(2)),
    'gather: index has dtype float32, expected int32',
  ],
  [
    'scatterAdd: src smaller than index',
    () => core.scatterAdd(r(2, 3), 1, i32([[0, 1]]), r(1, 1)),
    'scatterAdd: src of shape [1, 1] must cover index of shape [1, 2]',
  ],
  [
    'scatterAdd: index out of range',
    () => core.scatterAdd(r(2), 0, i32([2]), r(1)),
    'scatterAdd: index 2 at position 0 is out of range for axis 0 of shape [2] (expected 0 <= index < 2)',
  ],
  [
    'scatterAdd: negative index',
    () => core.scatterAdd(r(2), 0, i32([-1]), r(1)),
    'scatterAdd: index -1 at position 0 is out of range for axis 0 of shape [2] (expected 0 <= index < 2)',
  ],
  [
    'scatterAdd: src dtype',
    () => core.scatterAdd(r(2), 0, i32([0]), r64(1)),
    'scatterAdd: dtype mismatch: float32 and float64; convert one with .cast(dtype)',
  ],

  // ---- losses
  [
    'nll: target too large',
    () => core.nll(r(2, 3), i32([0, 3])),
    'nll: target 3 at position 1 is out of range for 3 classes (expected 0 <= target < 3)',
  ],
  [
    'nll: negative target',
    () => core.nll(r(2, 3), i32([-1, 0])),
    'nll: target -1 at position 0 is out of range for 3 classes (expected 0 <= target < 3)',
  ],
  [
    'nll: 0-d target out of range',
    () => core.nll(r(3), tensor(3, { dtype: 'int32' })),
    'nll: target 3 at position 0 is out of range for 3 classes (expected 0 <= target < 3)',
  ],
  ['nll: float target', () => core.nll(r(2, 3), r(2)), 'nll: target has dtype float32, expected int32'],
  [
    'nll: int32 input',
    () => core.nll(i32([[0, 1]]), i32([0])),
    'nll: input has dtype int32, expected float32 or float64',
  ],
  [
    'nll: target length',
    () => core.nll(r(2, 3), i32([0])),
    'nll: expected input [N, C] and target [N] (or input [C] and a 0-d target), got input [2, 3] and target [1]',
  ],
  [
    'nll: 2-D target',
    () => core.nll(r(2, 3), zeros([2, 1], { dtype: 'int32' })),
    'nll: expected input [N, C] and target [N] (or input [C] and a 0-d target), got input [2, 3] and target [2, 1]',
  ],
  [
    'nll: 3-D input',
    () => core.nll(r(2, 3, 4), i32([0, 0])),
    'nll: expected input [N, C] and target [N] (or input [C] and a 0-d target), got input [2, 3, 4] and target [2]',
  ],
  [
    'nll: reduction',
    () => core.nll(r(2, 3), i32([0, 1]), 'avg' as 'mean'),
    "nll: reduction must be 'mean', 'sum' or 'none', got 'avg'",
  ],
  [
    'crossEntropy: target too large',
    () => core.crossEntropy(r(1, 2), i32([2])),
    'crossEntropy: target 2 at position 0 is out of range for 2 classes (expected 0 <= target < 2)',
  ],
  [
    'crossEntropy: negative target',
    () => core.crossEntropy(r(2, 3), i32([0, -1])),
    'crossEntropy: target -1 at position 1 is out of range for 3 classes (expected 0 <= target < 3)',
  ],
  [
    'crossEntropy: float target',
    () => core.crossEntropy(r(2, 3), r(2)),
    'crossEntropy: target has dtype float32, expected int32',
  ],
  [
    'crossEntropy: target shape',
    () => core.crossEntropy(r(2, 3), i32([0, 1, 2])),
    'crossEntropy: expected input [N, C] and target [N] (or input [C] and a 0-d target), got input [2, 3] and target [3]',
  ],
  [
    'mse: shapes',
    () => core.mse(r(2, 3), r(3, 2)),
    'mse: input has shape [2, 3] but target has shape [3, 2]',
  ],
  ['mse: dtypes', () => core.mse(r(2), r64(2)), 'mse: input is float32 but target is float64'],
  [
    'mse: int32',
    () => core.mse(i32([1]), i32([1])),
    'mse: input has dtype int32, expected float32 or float64',
  ],
  ['bce: shapes', () => core.bce(r(2), r(3)), 'bce: input has shape [2] but target has shape [3]'],
  ['bce: dtypes', () => core.bce(r(2), r64(2)), 'bce: input is float32 but target is float64'],
  [
    'bce: weight shape',
    () => core.bce(r(2), r(2), 'mean', r(3)),
    'bce: weight of shape [3] float32 does not broadcast to the input [2] float32',
  ],
  [
    'lstmCell: shapes',
    () => core.lstmCell(r(2, 8), r(2, 3)),
    'lstmCell: expected gates [N, 4H] and cPrev [N, H], got gates [2, 8] and cPrev [2, 3]',
  ],

  // ---- creation
  [
    'tensor: ragged rows',
    () => tensor([[1, 2], [3]]),
    'tensor: nested arrays are ragged: element [1] has length 1 instead of 2, expected shape [2, 2] (from the first elements)',
  ],
  [
    'tensor: a number where a row was expected',
    () => tensor([[1, 2], 3] as unknown as number[][]),
    'tensor: nested arrays are ragged: element [1] is 3 where an array of length 2 was expected, expected shape [2, 2] (from the first elements)',
  ],
  [
    'tensor: a row where a number was expected',
    () => tensor([1, [2]] as unknown as number[]),
    'tensor: nested arrays are ragged: element [1] is an array where a number was expected, expected shape [2] (from the first elements)',
  ],
  [
    'tensor: not a number',
    () => tensor(['a'] as unknown as number[]),
    'tensor: element 0 is not a number: a',
  ],
  ['tensor: shape', () => tensor([1, 2, 3], { shape: [2, 2] }), 'tensor: 3 values cannot take shape [2, 2]'],
  [
    'tensor: unknown dtype',
    () => tensor([1], { dtype: 'bool' as 'int32' }),
    "tensor: unknown dtype 'bool', expected float32, float64, int32",
  ],
  [
    'zeros: negative dim',
    () => zeros([2, -1]),
    'zeros: shape must be a list of non-negative integers, got [2,-1]',
  ],
  [
    'zeros: unknown dtype',
    () => zeros([2], { dtype: 'float16' as 'float32' }),
    "zeros: unknown dtype 'float16', expected float32, float64, int32",
  ],
  [
    'cast: unknown dtype',
    () => core.cast(r(2), 'int64' as 'int32'),
    "cast: unknown dtype 'int64', expected float32, float64, int32",
  ],
  [
    'arange: zero step',
    () => core.arange(0, 3, 0),
    'arange: needs finite start/end and a non-zero step, got 0, 3, 0',
  ],
  [
    'linspace: negative steps',
    () => core.linspace(0, 1, -1),
    'linspace: steps must be a non-negative integer, got -1',
  ],
  ['uniform: low > high', () => core.uniform([2], 1, 0), 'uniform: needs low <= high, got 1 and 0'],
  ['randint: empty range', () => core.randint(3, 3, [2]), 'randint: needs integers low < high, got 3 and 3'],
  [
    'to: unknown device',
    () => r(1).to('tpu' as 'cpu'),
    "device: unknown device 'tpu', expected 'cpu' or 'webgpu'",
  ],

  // ---- reading values
  ['itemSync: many elements', () => r(2).itemSync(), 'item: needs a tensor with one element, got shape [2]'],
  ['itemSync: empty', () => zeros([0]).itemSync(), 'item: needs a tensor with one element, got shape [0]'],

  // ---- in place
  [
    'add_: shapes',
    () => zeros([2]).add_(zeros([3])),
    'add_: shapes [2] and [3] cannot be broadcast together',
  ],
  [
    'add_: result larger than the target',
    () => zeros([2]).add_(zeros([2, 2])),
    'add_: cannot write a result of shape [2, 2] into [2]',
  ],
  [
    'mul_: dtypes',
    () => zeros([2]).mul_(zeros([2], f64)),
    'mul_: dtype mismatch: float32 and float64; convert one with .cast(dtype)',
  ],
  [
    'copy_: shapes',
    () => zeros([2]).copy_(zeros([3])),
    'copy_: shapes [2] and [3] cannot be broadcast together',
  ],
  [
    'add_: a leaf that requires grad',
    () => zeros([2], { requiresGrad: true }).add_(1),
    'add_: a leaf tensor that requires grad cannot be modified in place while gradients are recorded; use noGrad()',
  ],
  [
    'fill_: a leaf that requires grad',
    () => zeros([2], { requiresGrad: true }).fill_(1),
    'fill_: a leaf tensor that requires grad cannot be modified in place; use noGrad()',
  ],

  // ---- autograd
  [
    'requiresGrad: int32',
    () => i32([1]).requiresGrad_(),
    'requiresGrad: int32 tensors cannot require gradients; only float32 and float64 can',
  ],
  [
    'requiresGrad: not a leaf',
    () => {
      core.mul(zeros([1], { requiresGrad: true }), 2).requiresGrad = false;
    },
    'requiresGrad: can only be set on leaf tensors; use detach() to cut the graph',
  ],
  [
    'backward: nothing requires grad',
    () => core.sum(r(2)).backward(),
    'backward: this tensor does not require grad: no op on a tensor requiring grad made it',
  ],
  [
    'backward: implied gradient of a non-scalar',
    () => core.mul(zeros([2], { requiresGrad: true }), 2).backward(),
    'backward: a gradient can be implied only for a single-element output; pass one of shape [2]',
  ],
  [
    'backward: gradient shape',
    () => core.mul(zeros([2], { requiresGrad: true }), 2).backward(zeros([3])),
    'backward: gradient has shape [3] float32 on cpu, expected [2] float32 on cpu',
  ],
  [
    'backward: gradient dtype',
    () => core.mul(zeros([2], { requiresGrad: true }), 2).backward(zeros([2], f64)),
    'backward: gradient has shape [2] float64 on cpu, expected [2] float32 on cpu',
  ],
  [
    'backward: twice through a freed graph',
    () => {
      const y = core.sum(core.exp(zeros([2], { requiresGrad: true })));
      y.backward();
      y.backward();
    },
    /^backward: the graph through '\w+' was already freed by an earlier backward; pass \{ retainGraph: true \} to the first backward to go through it twice$/,
  ],
  [
    'backward: a saved tensor modified in place',
    () => {
      const h = core.mul(zeros([2], { requiresGrad: true }), 1);
      const y = core.sum(core.mul(h, h));
      core.noGrad(() => h.add_(1));
      y.backward();
    },
    "backward: a tensor of shape [2] saved by 'mul' was modified in place after it was used; clone it before modifying it",
  ],
  [
    'vjp: gradient shape',
    () => {
      const x = zeros([2], { requiresGrad: true });
      core.vjp([core.mul(x, 2)], [zeros([3])], [x]);
    },
    'vjp: gradient 0 has shape [3], expected [2]',
  ],
  ['vjp: counts', () => core.vjp([r(1)], [], []), 'vjp: got 1 outputs but 0 gradients'],
  [
    'gradcheck: float32 input',
    () => core.gradcheck((x) => x, [zeros([1], { requiresGrad: true })]),
    'gradcheck: input 0 is float32 on cpu; use float64 CPU tensors',
  ],
];

describe('bad input gives a WebrnnError naming the op, what it got and what it expected', () => {
  it.each(CASES.map(([name, call, message]) => [name, call, message] as const))(
    '%s',
    (_name, call, message) => {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WebrnnError);
      const msg = (err as Error).message;
      if (typeof message === 'string') expect(msg).toBe(message);
      else expect(msg).toMatch(message);
      // The op named first is the error's op.
      expect(msg.startsWith(`${(err as WebrnnError).op}: `)).toBe(true);
    },
  );

  it('async reads reject the same way', async () => {
    await expect(r(2).item()).rejects.toThrow('item: needs a tensor with one element, got shape [2]');
    const dead = r(1);
    dead.dispose();
    await expect(dead.data()).rejects.toThrow(
      /^data: tensor #\d+ of shape \[1\] was disposed and cannot be used$/,
    );
    await expect(dead.item()).rejects.toThrow(/^item: tensor #\d+/);
    await expect(dead.toArray()).rejects.toThrow(/^toArray: tensor #\d+/);
  });

  it('a bad call leaves nothing behind (no leaked tensors)', () => {
    const before = core.memory();
    for (const [, call] of CASES) {
      core.tidy(() => {
        try {
          call();
        } catch {
          // expected
        }
      });
    }
    const after = core.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.storages).toBe(before.storages);
  });
});

// ---- disposed tensors -----------------------------------------------------------------------------------------

describe('every op refuses a disposed tensor, naming itself and the tensor', () => {
  const dead = () => {
    const t = randn([2, 2]);
    t.dispose();
    return t;
  };
  const ok = () => randn([2, 2]);
  const idx = () => zeros([1, 2], { dtype: 'int32' });
  /** [op named in the error, the call]. */
  const OPS: [string, (d: Tensor) => unknown][] = [
    ['add', (d) => core.add(d, ok())],
    ['add', (d) => core.add(ok(), d)],
    ['sub', (d) => core.sub(d, ok())],
    ['mul', (d) => core.mul(ok(), d)],
    ['div', (d) => core.div(d, ok())],
    ['pow', (d) => core.pow(d, 3)],
    ['pow', (d) => core.pow(d, 2)],
    ['pow', (d) => core.pow(ok(), d)],
    ['maximum', (d) => core.maximum(d, ok())],
    ['minimum', (d) => core.minimum(d, 0)],
    ['where', (d) => core.where(d, ok(), ok())],
    ['where', (d) => core.where(ok(), d, 0)],
    ['gt', (d) => core.gt(d, 0)],
    ...(
      [
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
      ] as const
    ).map((op): [string, (d: Tensor) => unknown] => [op, (d) => core[op](d)]),
    ['clamp', (d) => core.clamp(d, 0, 1)],
    ['cumsum', (d) => core.cumsum(d, 1)],
    ['sort', (d) => core.sort(d, 0)],
    ['topk', (d) => core.topk(d, 1)],
    ['hardtanh', (d) => core.hardtanh(d)],
    ['matmul', (d) => core.matmul(d, ok())],
    ['matmul', (d) => core.matmul(ok(), d, { transB: true })],
    ['sum', (d) => core.sum(d)],
    ['mean', (d) => core.mean(d, 0)],
    ['max', (d) => core.max(d)],
    ['min', (d) => core.min(d, 1)],
    ['argmax', (d) => core.argmax(d)],
    ['argmin', (d) => core.argmin(d, 0)],
    ['softmax', (d) => core.softmax(d)],
    ['logSoftmax', (d) => core.logSoftmax(d, 0)],
    ['reshape', (d) => core.reshape(d, [4])],
    ['view', (d) => core.view(d, [4])],
    ['flatten', (d) => core.flatten(d)],
    ['squeeze', (d) => core.squeeze(d)],
    ['unsqueeze', (d) => core.unsqueeze(d, 0)],
    ['transpose', (d) => core.transpose(d)],
    ['transpose', (d) => d.t()],
    ['permute', (d) => core.permute(d, [1, 0])],
    ['expand', (d) => core.expand(d, [3, 2, 2])],
    ['expand', (d) => core.expand(d, [2, 2])],
    ['narrow', (d) => core.narrow(d, 0, 0, 1)],
    ['slice', (d) => core.slice(d, 0, 1)],
    ['select', (d) => core.select(d, 0, 0)],
    ['cat', (d) => core.cat([ok(), d])],
    ['stack', (d) => core.stack([ok(), d])],
    ['split', (d) => core.split(d, 1)],
    ['chunk', (d) => core.chunk(d, 2)],
    ['unbind', (d) => core.unbind(d)],
    ['indexSelect', (d) => core.indexSelect(d, 0, i32([0]))],
    ['gather', (d) => core.gather(d, 0, idx())],
    ['scatterAdd', (d) => core.scatterAdd(d, 0, idx(), ok())],
    ['scatterAdd', (d) => core.scatterAdd(ok(), 0, idx(), d)],
    ['contiguous', (d) => core.contiguous(d)],
    ['clone', (d) => core.clone(d)],
    ['cast', (d) => core.cast(d, 'float64')],
    ['to', (d) => core.to(d, 'cpu')],
    ['nll', (d) => core.nll(d, i32([0, 1]))],
    ['crossEntropy', (d) => core.crossEntropy(d, i32([0, 1]))],
    ['mse', (d) => core.mse(d, ok())],
    ['mse', (d) => core.mse(ok(), d)],
    ['bce', (d) => core.bce(d, ok())],
    ['lstmCell', (d) => core.lstmCell(randn([2, 8]), d)],
    ['withLoss', (d) => core.withLoss(d, core.sum(ok()))],
    ['zerosLike', (d) => core.zerosLike(d)],
    ['onesLike', (d) => core.onesLike(d)],
    ['dataSync', (d) => d.dataSync()],
    ['item', (d) => d.itemSync()],
    ['toArray', (d) => d.toArraySync()],
    ['detach', (d) => d.detach()],
    ['backward', (d) => d.backward()],
    ['add_', (d) => d.add_(1)],
    ['copy_', (d) => ok().copy_(d)],
    ['fill_', (d) => d.fill_(1)],
  ];
  it.each(OPS.map(([op, call], i) => [`${op} (${i})`, op, call] as const))('%s', (_label, op, call) => {
    const d = dead();
    expect(() => call(d)).toThrow(
      new RegExp(`^${op}: tensor #${d.id} of shape \\[2, 2\\] was disposed and cannot be used$`),
    );
  });

  it('nll and crossEntropy name a disposed target too', () => {
    const t = i32([0, 1]);
    t.dispose();
    expect(() => core.nll(ok(), t)).toThrow(
      new RegExp(`^nll: tensor #${t.id} of shape \\[2\\] was disposed`),
    );
    expect(() => core.crossEntropy(ok(), t)).toThrow(
      new RegExp(`^crossEntropy: tensor #${t.id} of shape \\[2\\]`),
    );
    expect(() => core.indexSelect(ok(), 0, t)).toThrow(new RegExp(`^indexSelect: tensor #${t.id}`));
  });

  it('scalar arithmetic on a disposed tensor names the op called, not the kernel it runs (affine)', () => {
    for (const [op, f] of [
      ['add', (d: Tensor) => core.add(d, 1)],
      ['mul', (d: Tensor) => core.mul(d, 2)],
      ['div', (d: Tensor) => core.div(d, 2)],
    ] as const) {
      const d = dead();
      expect(() => f(d)).toThrow(new RegExp(`^${op}: tensor #${d.id} of shape \\[2, 2\\] was disposed`));
    }
  });
});
