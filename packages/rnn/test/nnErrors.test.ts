import { describe, expect, it } from 'vitest';
import { type Activity, ModuleError, nn, randn, tensor, uniform } from '@webrnn/rnn';

/**
 * Bad inputs: each module says what it got and what it expected, prefixed by the module path (Module.forward and
 * the containers add it). One table, every message checked.
 */

const i32 = { dtype: 'int32' as const };
const x23 = () => randn([2, 3]);

interface Bad {
  readonly name: string;
  readonly run: () => unknown;
  readonly message: string | RegExp;
}

const forward = (m: nn.Module, input: Activity) => () => m.forward(input);

const BAD: readonly Bad[] = [
  // tensor vs table
  {
    name: 'Sigmoid given a table',
    run: forward(new nn.Sigmoid(), [x23()]),
    message: 'nn.Sigmoid: input: expected a tensor, got a table {[2, 3]}',
  },
  {
    name: 'JoinTable given a tensor',
    run: forward(new nn.JoinTable(0), x23()),
    message: 'nn.JoinTable: input: expected a table (array), got a tensor [2, 3]',
  },
  {
    name: 'CAddTable given a nested table',
    run: forward(new nn.CAddTable(), [x23(), [x23()]]),
    message: 'nn.CAddTable: input[1]: expected a tensor, got a table {[2, 3]}',
  },
  {
    name: 'ReLU given int32',
    run: forward(new nn.ReLU(), tensor([1, 2], i32)),
    message: 'nn.ReLU: input: has dtype int32, expected float32 or float64 (shape [2])',
  },
  // mismatched shapes
  {
    name: 'CAddTable with mismatched shapes',
    run: forward(new nn.CAddTable(), [x23(), randn([2, 4])]),
    message: 'nn.CAddTable: input[1]: has shape [2, 4], expected [2, 3] like input[0]',
  },
  {
    name: 'CMulTable with mismatched dtypes',
    run: forward(new nn.CMulTable(), [x23(), randn([2, 3], { dtype: 'float64' })]),
    message: 'nn.CMulTable: input[1]: has shape [2, 3] float64, expected [2, 3] like input[0]',
  },
  {
    name: 'CSubTable with three entries',
    run: forward(new nn.CSubTable(), [x23(), x23(), x23()]),
    message: 'nn.CSubTable: input: expected a table of 2 tensors, got {[2, 3], [2, 3], [2, 3]}',
  },
  {
    name: 'JoinTable with shapes that differ off the joined dimension',
    run: forward(new nn.JoinTable(0), [x23(), randn([2, 4])]),
    message:
      'nn.JoinTable: input[1]: has shape [2, 4] float32, expected [2, 3] float32 like input[0] except along dimension 0',
  },
  {
    name: 'JoinTable with a dimension out of range',
    run: forward(new nn.JoinTable(2), [x23(), x23()]),
    message: 'nn.JoinTable: dimension: 2 is out of range for an input of shape [2, 3]',
  },
  {
    name: 'SplitTable with a negative dimension out of range',
    run: forward(new nn.SplitTable(-3), x23()),
    message: 'nn.SplitTable: dimension: -3 (resolved to -1) is out of range for an input of shape [2, 3]',
  },
  // wrong sizes
  {
    name: 'Linear with the wrong input size',
    run: forward(new nn.Linear(4, 2), x23()),
    message: 'nn.Linear(4 -> 2): input: has shape [2, 3], expected [4] or [N, 4]',
  },
  {
    name: 'Reshape with the wrong number of elements',
    run: forward(new nn.Reshape(4), randn([3, 5])),
    message: 'nn.Reshape(4): input: has shape [3, 5], expected 4 elements (4) or a batch of them',
  },
  {
    name: 'Reshape forced out of batch mode',
    run: forward(new nn.Reshape(4, false), randn([1, 5])),
    message: 'nn.Reshape(4): input: has shape [1, 5] (5 elements), expected 4 elements for 4',
  },
  {
    name: 'View that does not divide the input',
    run: forward(new nn.View(4), randn([3, 5])),
    message: 'nn.View(4): input: view (3x5) and desired view (4) do not match',
  },
  {
    name: 'CMul with an input it cannot scale',
    run: forward(new nn.CMul(1, 4), randn([3, 5])),
    message: 'nn.CMul: input: has shape [3, 5], which weight [1, 4] cannot expand to',
  },
  {
    name: 'CMul with a batch of the wrong example size',
    run: forward(new nn.CMul(4), randn([3, 5])),
    message:
      'nn.CMul: input: has shape [3, 5], expected 4 elements like weight [4] or a batch [N, ...] of them',
  },
  {
    name: 'Add with the wrong example size',
    run: forward(new nn.Add(4), randn([3, 5])),
    message: 'nn.Add: input: has shape [3, 5], expected [4] or a batch [N, ...] of 4 elements each',
  },
  {
    name: 'SoftMax on a 5-D input',
    run: forward(new nn.SoftMax(), randn([1, 1, 1, 1, 2])),
    message: 'nn.SoftMax: input: has shape [1, 1, 1, 1, 2], expected a 1D, 2D, 3D or 4D tensor',
  },
  {
    name: 'Transpose of a dimension the input lacks',
    run: forward(new nn.Transpose([0, 2]), x23()),
    message: 'nn.Transpose: input: has shape [2, 3], too few dimensions to transpose 0 and 2',
  },
  {
    name: 'Select with an index out of range',
    run: forward(new nn.Select(1, 3), x23()),
    message: 'nn.Select: index: 3 is out of range for dimension 1 of size 3 (input shape [2, 3])',
  },
  // tables too short
  {
    name: 'SelectTable with an index out of range',
    run: forward(new nn.SelectTable(-3), [x23(), x23()]),
    message:
      'nn.SelectTable(-3): index: -3 does not exist in the input table {[2, 3], [2, 3]} (2 entries, 0-based)',
  },
  {
    name: 'NarrowTable past the end',
    run: forward(new nn.NarrowTable(1, 2), [x23(), x23()]),
    message: 'nn.NarrowTable: input: has 2 entries {[2, 3], [2, 3]}, too few for offset 1 and length 2',
  },
  {
    name: 'ParallelTable with fewer entries than modules',
    run: forward(new nn.ParallelTable().add(new nn.Tanh()).add(new nn.Tanh()), [x23()]),
    // A container is named by its class: its printed tree would not fit on one line.
    message: 'nn.ParallelTable: input: has 1 entries {[2, 3]}, expected one for each of the 2 modules',
  },
  {
    name: 'ZipTable with ragged tables',
    run: forward(new nn.ZipTable(), [[x23(), x23()], [x23()]]),
    message: 'nn.ZipTable: input[1]: has 1 entries, expected 2 like input[0]',
  },
  // indices
  {
    name: 'LookupTable with an index out of range',
    run: forward(
      new nn.LookupTable(5, 2),
      tensor(
        [
          [0, 1],
          [5, 2],
        ],
        i32,
      ),
    ),
    message:
      'nn.LookupTable: input: index 5 at position [1, 0] is out of range for nIndex 5 (expected 0 <= index < 5)',
  },
  {
    name: 'LookupTable with a negative index',
    run: forward(new nn.LookupTable(5, 2), tensor([-1], i32)),
    message:
      'nn.LookupTable: input: index -1 at position [0] is out of range for nIndex 5 (expected 0 <= index < 5)',
  },
  {
    name: 'LookupTable with float indices',
    run: forward(new nn.LookupTable(5, 2), tensor([1, 2])),
    message: 'nn.LookupTable: input: has dtype float32, expected int32 indices (0-based)',
  },
  {
    name: 'Copy given the wrong dtype',
    run: forward(new nn.Copy('float64', 'float32'), x23()),
    message: 'nn.Copy: input: has dtype float32, expected float64 (this Copy converts float64 to float32)',
  },
  // nested paths
  {
    name: 'a module deep inside containers',
    run: forward(
      new nn.Sequential()
        .add(new nn.Identity())
        .add(new nn.ConcatTable().add(new nn.Linear(3, 2)).add(new nn.Linear(5, 2))),
      x23(),
    ),
    message:
      'nn.Sequential[1] nn.ConcatTable[1] (nn.Linear(5 -> 2)): input: has shape [2, 3], expected [5] or [N, 5]',
  },
  {
    name: 'MapTable names the entry',
    run: forward(new nn.MapTable(new nn.Linear(3, 2)), [x23(), randn([2, 4])]),
    message: 'nn.MapTable[1] (nn.Linear(3 -> 2)): input: has shape [2, 4], expected [3] or [N, 3]',
  },
  // criterions
  {
    name: 'ClassNLLCriterion with a target out of range',
    run: () => new nn.ClassNLLCriterion().forward(x23(), tensor([0, 3], i32)),
    message:
      'nn.ClassNLLCriterion: target: class 3 at position 1 is out of range for 3 classes (expected 0 <= class < 3)',
  },
  {
    name: 'ClassNLLCriterion with float targets',
    run: () => new nn.ClassNLLCriterion().forward(x23(), tensor([0, 1])),
    message: 'nn.ClassNLLCriterion: target: has dtype float32, expected int32 class indices',
  },
  {
    name: 'ClassNLLCriterion with a target per example missing',
    run: () => new nn.ClassNLLCriterion().forward(x23(), tensor([0, 1, 2], i32)),
    message:
      'nn.ClassNLLCriterion: input: expected input [N, C] with target [N] or input [C] with one target, got [2, 3] and target [3]',
  },
  {
    name: 'ClassNLLCriterion with weights of the wrong size',
    run: () => new nn.ClassNLLCriterion(tensor([1, 1])).forward(x23(), tensor([0, 1], i32)),
    message: 'nn.ClassNLLCriterion: weights: has 2 entries, expected one for each of the 3 classes',
  },
  {
    name: 'CrossEntropyCriterion with a target out of range',
    run: () => new nn.CrossEntropyCriterion().forward(x23(), tensor([-1, 0], i32)),
    message:
      'nn.CrossEntropyCriterion: target: class -1 at position 0 is out of range for 3 classes (expected 0 <= class < 3)',
  },
  {
    name: 'BCECriterion with an input outside [0, 1]',
    run: () => new nn.BCECriterion().forward(tensor([0.5, 1.5]), tensor([0, 1])),
    message:
      'nn.BCECriterion: input: value 1.5 at flat position 1 should be between 0 and 1 (probabilities, e.g. after nn.Sigmoid)',
  },
  {
    name: 'BCECriterion with a target of another size',
    run: () => new nn.BCECriterion().forward(uniform([2, 3]), uniform([4])),
    message:
      'nn.BCECriterion: target: has shape [4] (4 elements), expected as many elements as the input [2, 3]',
  },
  {
    name: 'MSECriterion with a target of another shape',
    run: () => new nn.MSECriterion().forward(x23(), randn([3, 2])),
    message: 'nn.MSECriterion: mse: input has shape [2, 3] but target has shape [3, 2]',
  },
];

describe('bad inputs name what they got and what was expected', () => {
  for (const b of BAD) {
    it(b.name, () => {
      let err: unknown;
      try {
        b.run();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModuleError);
      const msg = (err as Error).message;
      if (typeof b.message === 'string') expect(msg).toBe(b.message);
      else expect(msg).toMatch(b.message);
    });
  }
});

describe('bad constructor arguments', () => {
  it.each([
    ['Dropout(1)', () => new nn.Dropout(1), 'nn.Dropout: illegal percentage, must be 0 <= p < 1, got 1'],
    [
      'HardTanh(1, -1)',
      () => new nn.HardTanh(1, -1),
      'nn.HardTanh: maxValue must be larger than minValue, got 1 and -1',
    ],
    [
      'LookupTable(0, 3)',
      () => new nn.LookupTable(0, 3),
      'nn.LookupTable: nIndex must be a positive integer, got 0',
    ],
    ['View(-1, -1)', () => new nn.View(-1, -1), 'nn.View: only one dimension can be -1, got (-1, -1)'],
    ['CMul()', () => new nn.CMul(), 'nn.CMul: sizes must be positive integers, got ()'],
    [
      'Copy(bad type)',
      () => new nn.Copy('torch.ByteTensor'),
      "nn.Copy: unknown type 'torch.ByteTensor', expected float32, float64 or int32",
    ],
    [
      'NarrowTable(-1)',
      () => new nn.NarrowTable(-1),
      'nn.NarrowTable: offset and length must be non-negative integers, got -1 and 1',
    ],
    [
      'Transpose([0])',
      () => new nn.Transpose([0] as never),
      'nn.Transpose: expected pairs of 0-based dimensions, got [0]',
    ],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});
