import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, ones, randn, sum, tensor } from '@webrnn/rnn';

/** Forward (and backward) semantics of the table modules and containers against Torch, on hand-computed cases. */

const i32 = { dtype: 'int32' as const };
const arr = (a: Activity): unknown => (Array.isArray(a) ? a.map(arr) : (a as Tensor).toArraySync());
const m23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe('SplitTable and JoinTable', () => {
  it('SplitTable splits along a 0-based dimension, negative from the end', () => {
    expect(arr(new nn.SplitTable(0).forward(m23()))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(arr(new nn.SplitTable(1).forward(m23()))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(arr(new nn.SplitTable(-1).forward(m23()))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const x = randn([2, 3, 4]);
    const parts = new nn.SplitTable(-2).forward(x) as Tensor[];
    expect(parts.map((p) => p.shape)).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
    ]);
  });

  it('SplitTable with nInputDims treats one more dimension as a batch', () => {
    // One example [3]: split into three scalars; a batch [2, 3]: split along dimension 1 into three [2].
    const m = new nn.SplitTable(0, 1);
    expect(arr(m.forward(tensor([7, 8, 9])))).toEqual([7, 8, 9]);
    expect(arr(m.forward(m23()))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    // Negative dimensions ignore nInputDims.
    expect((new nn.SplitTable(-1, 1).forward(m23()) as Tensor[]).length).toBe(3);
  });

  it('SplitTable splits int32 index sequences too', () => {
    const steps = new nn.SplitTable(0).forward(
      tensor(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        i32,
      ),
    ) as Tensor[];
    expect(steps.map((s) => s.dtype)).toEqual(['int32', 'int32', 'int32']);
    expect(arr(steps)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('JoinTable joins along a 0-based dimension, with nInputDims for batches', () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([[5, 6]]);
    expect(arr(new nn.JoinTable(0).forward([a, b]))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(arr(new nn.JoinTable(-1).forward([a, tensor([[9], [10]])]))).toEqual([
      [1, 2, 9],
      [3, 4, 10],
    ]);
    const j = new nn.JoinTable(0, 1);
    expect(arr(j.forward([tensor([1, 2]), tensor([3])]))).toEqual([1, 2, 3]);
    expect(arr(j.forward([a, tensor([[7], [8]])]))).toEqual([
      [1, 2, 7],
      [3, 4, 8],
    ]);
  });

  it('JoinTable undoes SplitTable, and backward splits the gradient back', () => {
    const x = randn([3, 4]);
    const m = new nn.Sequential().add(new nn.SplitTable(1)).add(new nn.JoinTable(0, 1));
    const y = m.forward(x) as Tensor;
    // The slices of [3, 4] along 1 are four [3]; joined along 0 they make [12] in column order.
    const cols = x.transpose(0, 1).contiguous().reshape([12]);
    expect(y.toArraySync()).toEqual(cols.toArraySync());
    const g = randn([12]);
    const gi = m.backward(x, g) as Tensor;
    expect(gi.toArraySync()).toEqual(g.reshape([4, 3]).transpose(0, 1).contiguous().toArraySync());
  });
});

describe('SelectTable, NarrowTable, FlattenTable, ZipTable', () => {
  const a = tensor([1, 2]);
  const b = tensor([3]);
  const c = tensor([[4, 5]]);

  it('SelectTable(-1) is the last entry, SelectTable(0) the first; others get zero gradients', () => {
    expect(arr(new nn.SelectTable(-1).forward([a, b, c]))).toEqual([[4, 5]]);
    expect(arr(new nn.SelectTable(-2).forward([a, b, c]))).toEqual([3]);
    const m = new nn.SelectTable(0);
    expect(arr(m.forward([[a, b], c]))).toEqual([[1, 2], [3]]);
    const gi = m.backward([[a, b], c], [tensor([10, 20]), tensor([30])]);
    expect(arr(gi)).toEqual([[[10, 20], [30]], [[0, 0]]]);
  });

  it('NarrowTable(offset, length) takes a 0-based slice of the table', () => {
    const d = tensor([6]);
    const m = new nn.NarrowTable(1, 2);
    expect(arr(m.forward([a, b, c, d]))).toEqual([[3], [[4, 5]]]);
    expect(arr(new nn.NarrowTable(3).forward([a, b, c, d]))).toEqual([[6]]);
    const gi = m.backward([a, b, c, d], [tensor([1]), tensor([[2, 3]])]);
    expect(arr(gi)).toEqual([[0, 0], [1], [[2, 3]], [0]]);
  });

  it('FlattenTable flattens nested tables depth first and backward restores the nesting', () => {
    const d = tensor([6]);
    const input = [a, [b, [c]], [[d]]];
    const m = new nn.FlattenTable();
    expect(arr(m.forward(input))).toEqual([[1, 2], [3], [[4, 5]], [6]]);
    const gi = m.backward(input, [tensor([1, 1]), tensor([2]), tensor([[3, 3]]), tensor([4])]);
    expect(arr(gi)).toEqual([[1, 1], [[2], [[[3, 3]]]], [[[4]]]]);
  });

  it('ZipTable zips a table of tables', () => {
    const m = new nn.ZipTable();
    expect(
      arr(
        m.forward([
          [a, b],
          [c, tensor([7])],
        ]),
      ),
    ).toEqual([
      [[1, 2], [[4, 5]]],
      [[3], [7]],
    ]);
  });
});

describe('elementwise table modules', () => {
  it('CAddTable, CSubTable and CMulTable', () => {
    const x = tensor([1, 2, 3]);
    const y = tensor([4, 5, 6]);
    const z = tensor([-1, 0, 2]);
    expect(arr(new nn.CAddTable().forward([x, y, z]))).toEqual([4, 7, 11]);
    expect(arr(new nn.CSubTable().forward([x, y]))).toEqual([-3, -3, -3]);
    const mul = new nn.CMulTable();
    expect(arr(mul.forward([x, y, z]))).toEqual([-4, 0, 36]);
    // d(xyz)/dx = yz etc.
    expect(arr(mul.backward([x, y, z], ones([3])))).toEqual([
      [-4, 0, 12],
      [-1, 0, 6],
      [4, 10, 18],
    ]);
  });
});

describe('containers', () => {
  it('ParallelTable applies module i to entry i; ConcatTable applies every module to the input', () => {
    const p = new nn.ParallelTable().add(new nn.MulConstant(2)).add(new nn.MulConstant(-1));
    expect(arr(p.forward([tensor([1, 2]), tensor([3])]))).toEqual([[2, 4], [-3]]);
    const c = new nn.ConcatTable().add(new nn.MulConstant(2)).add(new nn.Identity());
    const x = tensor([1, 2]);
    expect(arr(c.forward(x))).toEqual([
      [2, 4],
      [1, 2],
    ]);
    // The gradient with respect to the shared input is the sum over the branches.
    expect(arr(c.backward(x, [tensor([1, 1]), tensor([10, 20])]))).toEqual([12, 22]);
  });

  it('ConcatTable on a table input sums the table gradients entry by entry', () => {
    const c = new nn.ConcatTable().add(new nn.SelectTable(0)).add(new nn.CAddTable());
    const input = [tensor([1, 2]), tensor([3, 4])];
    expect(arr(c.forward(input))).toEqual([
      [1, 2],
      [4, 6],
    ]);
    expect(arr(c.backward(input, [tensor([1, 1]), tensor([5, 7])]))).toEqual([
      [6, 8],
      [5, 7],
    ]);
  });

  it('MapTable clones its module per entry, sharing the parameters', () => {
    manualSeed(3);
    const lin = new nn.Linear(2, 3);
    const m = new nn.MapTable(lin);
    const xs = [randn([4, 2]), randn([4, 2]), randn([1, 2])];
    const ys = m.forward(xs) as Tensor[];
    expect(m.size()).toBe(3);
    ys.forEach((y, i) => expect(y.toArraySync()).toEqual((lin.forward(xs[i]!) as Tensor).toArraySync()));
    expect(m.parameters()[0]).toEqual(lin.parameters()[0]);
    // The shared gradient collects every entry's contribution.
    m.zeroGradParameters();
    m.backward(
      xs,
      ys.map((y) => ones(y.shape)),
    );
    const expected = xs.reduce((s, x) => s + sum(x).itemSync(), 0);
    expect(sum(lin.gradWeight.select(0, 0)).itemSync()).toBeCloseTo(expected, 5);
    m.clearState();
    expect(m.size()).toBe(1);
    expect(() => m.add(new nn.Identity())).toThrow(/single module/);
  });

  it('training()/evaluate() reach every child (Dropout inside a ConcatTable)', () => {
    const drop = new nn.Dropout(0.5);
    const c = new nn.Sequential().add(new nn.ConcatTable().add(drop));
    c.evaluate();
    expect(drop.train).toBe(false);
    c.training();
    expect(drop.train).toBe(true);
  });
});
