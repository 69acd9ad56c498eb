import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  manualSeed,
  memory,
  nn,
  noGrad,
  ones,
  randn,
  sum,
  tensor,
  tidy,
  zeros,
} from '@webrnn/rnn';

/** Forward semantics of the other nn modules against Torch's documented behaviour, on hand-computed cases; printing. */

const i32 = { dtype: 'int32' as const };
const arr = (a: Activity): unknown => (Array.isArray(a) ? a.map(arr) : (a as Tensor).toArraySync());
const m23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe('Dropout', () => {
  it('scales kept inputs by 1/(1-p) in training, is the identity in evaluation', () => {
    manualSeed(42);
    const d = new nn.Dropout(0.25);
    const x = ones([4000]);
    const y = (d.forward(x) as Tensor).dataSync();
    const kept = y.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    expect(kept.length / y.length).toBeGreaterThan(0.72);
    expect(kept.length / y.length).toBeLessThan(0.78);
    // backward masks and scales the gradient exactly like the output.
    const gi = (d.backward(x, ones([4000])) as Tensor).dataSync();
    expect(Array.from(gi)).toEqual(Array.from(y));
    d.evaluate();
    const z = randn([3, 5]);
    expect((d.forward(z) as Tensor).toArraySync()).toEqual(z.toArraySync());
    expect((d.backward(z, ones([3, 5])) as Tensor).toArraySync()).toEqual(ones([3, 5]).toArraySync());
  });

  it('is reproducible with manualSeed; v1 scales at evaluation instead; p = 0 is the identity', () => {
    const x = randn([50]);
    manualSeed(7);
    const a = (new nn.Dropout(0.5).forward(x) as Tensor).toArraySync();
    manualSeed(7);
    const b = (new nn.Dropout(0.5).forward(x) as Tensor).toArraySync();
    expect(a).toEqual(b);
    const v1 = new nn.Dropout(0.5, true);
    manualSeed(7);
    const t = (v1.forward(x) as Tensor).dataSync();
    const xs = x.dataSync();
    t.forEach((v, i) => expect(v === 0 || v === xs[i]).toBe(true));
    v1.evaluate();
    const e = (v1.forward(x) as Tensor).dataSync();
    e.forEach((v, i) => expect(v).toBeCloseTo(xs[i]! * 0.5, 6));
    expect((new nn.Dropout(0).forward(x) as Tensor).toArraySync()).toEqual(x.toArraySync());
  });
});

describe('LookupTable', () => {
  it('looks rows up by 0-based indices of any shape: output shape is input shape + [nOutput]', () => {
    manualSeed(1);
    const lt = new nn.LookupTable(5, 3);
    const w = lt.weight.toArraySync() as number[][];
    const idx = tensor(
      [
        [0, 4, 2],
        [2, 2, 1],
      ],
      i32,
    );
    const y = lt.forward(idx) as Tensor;
    expect(y.shape).toEqual([2, 3, 3]);
    expect(y.toArraySync()).toEqual([
      [w[0], w[4], w[2]],
      [w[2], w[2], w[1]],
    ]);
    expect((lt.forward(tensor([3], i32)) as Tensor).shape).toEqual([1, 3]);
    expect((lt.forward(tensor(4, i32)) as Tensor).toArraySync()).toEqual(w[4]);
  });

  it('accumulates the gradients of repeated indices; the input gets int32 zeros', () => {
    const lt = new nn.LookupTable(4, 2);
    const idx = tensor(
      [
        [1, 3],
        [1, 1],
      ],
      i32,
    );
    lt.forward(idx);
    lt.zeroGradParameters();
    const go = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    const gi = lt.backward(idx, go) as Tensor;
    expect(gi.dtype).toBe('int32');
    expect(gi.toArraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(lt.gradWeight.toArraySync()).toEqual([
      [0, 0],
      [13, 16],
      [0, 0],
      [3, 4],
    ]);
  });

  it('initialises the weight from N(0, 1) as Torch', () => {
    manualSeed(5);
    const w = new nn.LookupTable(100, 50).weight.dataSync() as Float32Array;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.95);
    expect(std).toBeLessThan(1.05);
  });
});

describe('shape modules', () => {
  it('Reshape: whole input, or a batch when the first dimension must be kept', () => {
    const r = new nn.Reshape(3, 2);
    expect((r.forward(randn([2, 3])) as Tensor).shape).toEqual([3, 2]);
    expect((r.forward(randn([4, 6])) as Tensor).shape).toEqual([4, 3, 2]);
    // A first dimension of 1 is a batch of one, as in Torch.
    expect((r.forward(randn([1, 6])) as Tensor).shape).toEqual([1, 3, 2]);
    expect((new nn.Reshape(6, false).forward(randn([1, 6])) as Tensor).shape).toEqual([6]);
    // batchMode true: even an input with exactly size's elements is a batch.
    expect((new nn.Reshape(1, true).forward(randn([6, 1])) as Tensor).shape).toEqual([6, 1]);
    expect((new nn.Reshape(2, 3).forward(randn([2, 3])) as Tensor).shape).toEqual([2, 3]);
    expect((r.forward(tensor([1, 2, 3, 4, 5, 6])) as Tensor).toArraySync()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('View infers -1 and keeps batch dimensions given setNumInputDims', () => {
    expect((new nn.View(2, -1).forward(randn([3, 4])) as Tensor).shape).toEqual([2, 6]);
    const v = new nn.View(-1).setNumInputDims(2);
    expect((v.forward(randn([5, 3, 4])) as Tensor).shape).toEqual([5, 12]);
    expect((v.forward(randn([3, 4])) as Tensor).shape).toEqual([12]);
    // Without numInputDims, a multiple of the view's elements is a batch.
    expect((new nn.View(4).forward(randn([2, 2, 4])) as Tensor).shape).toEqual([4, 4]);
  });

  it('Transpose swaps pairs of 0-based dimensions in turn; Select picks and drops a dimension', () => {
    const x = randn([2, 3, 4]);
    const t = new nn.Transpose([0, 2], [1, 2]).forward(x) as Tensor;
    expect(t.shape).toEqual([4, 2, 3]);
    expect(t.isContiguous).toBe(true);
    expect(t.toArraySync()).toEqual(x.permute([2, 0, 1]).toArraySync());
    expect((new nn.Transpose([0, 1]).setNumInputDims(2).forward(x) as Tensor).shape).toEqual([2, 4, 3]);
    expect(arr(new nn.Select(1, -1).forward(m23()))).toEqual([3, 6]);
    expect(arr(new nn.Select(0, 1).forward(m23()))).toEqual([4, 5, 6]);
    expect(arr(new nn.Select(-1, 0).forward(m23()))).toEqual([1, 4]);
  });

  it('SoftMax and LogSoftMax normalise the features as THNN does (the channels of 3-D inputs)', () => {
    const x = randn([3, 2, 2]);
    const s = sum(new nn.SoftMax().forward(x) as Tensor, 0);
    for (const v of s.dataSync()) expect(v).toBeCloseTo(1, 6);
    const l = new nn.LogSoftMax().forward(randn([2, 5])) as Tensor;
    for (const v of sum(l.exp(), 1).dataSync()) expect(v).toBeCloseTo(1, 6);
  });
});

describe('parametrised modules', () => {
  it('CMul initialises in ±1/sqrt(nElement) and scales elementwise, broadcast or per example', () => {
    manualSeed(2);
    const m = new nn.CMul(3, 4);
    const bound = 1 / Math.sqrt(12);
    expect(m.weight.dataSync().every((v) => Math.abs(v) <= bound)).toBe(true);
    const w = m.weight.dataSync();
    const y = (m.forward(ones([5, 3, 4])) as Tensor).dataSync();
    for (let i = 0; i < y.length; i++) expect(y[i]).toBe(w[i % 12]);
    const row = new nn.CMul(1, 3);
    noGrad(() => row.weight.copy_(tensor([[1, 2, 3]])));
    expect(arr(row.forward(m23()))).toEqual([
      [1, 4, 9],
      [4, 10, 18],
    ]);
  });

  it('Add adds a learned bias to a vector, to each example, or one scalar to everything', () => {
    manualSeed(3);
    const a = new nn.Add(3);
    expect(a.bias.dataSync().every((v) => Math.abs(v) <= 1 / Math.sqrt(3))).toBe(true);
    const b = Array.from(a.bias.dataSync());
    expect((a.forward(zeros([2, 3])) as Tensor).toArraySync()).toEqual([b, b]);
    const s = new nn.Add(3, true);
    expect(s.bias.shape).toEqual([1]);
    const v = s.bias.dataSync()[0]!;
    expect((s.forward(zeros([2, 2])) as Tensor).toArraySync()).toEqual([
      [v, v],
      [v, v],
    ]);
  });

  it('MulConstant and Copy', () => {
    expect(arr(new nn.MulConstant(3).forward(tensor([1, -2])))).toEqual([3, -6]);
    const c = new nn.Copy('float32', 'float64');
    const y = c.forward(tensor([1.5, 2])) as Tensor;
    expect(y.dtype).toBe('float64');
    expect((c.backward(tensor([1.5, 2]), tensor([1, 2], { dtype: 'float64' })) as Tensor).dtype).toBe(
      'float32',
    );
    // Torch's type() converts both ends unless dontCast.
    const seq = new nn.Sequential().add(new nn.Copy('torch.FloatTensor', 'torch.DoubleTensor')).double();
    expect((seq.forward(tensor([1], { dtype: 'float64' })) as Tensor).dtype).toBe('float64');
    const kept = new nn.Copy('float32', 'float64', false, true).double();
    expect((kept.forward(tensor([1])) as Tensor).dtype).toBe('float64');
    const same = new nn.Copy('float32', 'float32');
    const x = tensor([1]);
    expect((same.forward(x) as Tensor).storage).toBe(x.storage);
  });
});

describe('printing like Torch', () => {
  it('prints ConcatTable and ParallelTable as branch trees, nested containers indented', () => {
    const c = new nn.ConcatTable()
      .add(new nn.Linear(3, 4))
      .add(new nn.Sequential().add(new nn.Tanh()).add(new nn.Dropout()))
      .add(new nn.Identity());
    expect(c.toString()).toBe(
      [
        'nn.ConcatTable {',
        '  input',
        '    |`-> (1): nn.Linear(3 -> 4)',
        '    |`-> (2): nn.Sequential {',
        '    |      [input -> (1) -> (2) -> output]',
        '    |      (1): nn.Tanh',
        '    |      (2): nn.Dropout(0.500000)',
        '    |    }',
        '     `-> (3): nn.Identity',
        '     ... -> output',
        '}',
      ].join('\n'),
    );
    const p = new nn.Sequential()
      .add(
        new nn.ParallelTable().add(new nn.Reshape(2, 3)).add(new nn.ParallelTable().add(new nn.View(-1, 4))),
      )
      .add(new nn.SelectTable(-1));
    expect(p.toString()).toBe(
      [
        'nn.Sequential {',
        '  [input -> (1) -> (2) -> output]',
        '  (1): nn.ParallelTable {',
        '    input',
        '      |`-> (1): nn.Reshape(2x3)',
        '       `-> (2): nn.ParallelTable {',
        '             input',
        '                `-> (1): nn.View(-1, 4)',
        '                ... -> output',
        '           }',
        '       ... -> output',
        '  }',
        '  (2): nn.SelectTable(-1)',
        '}',
      ].join('\n'),
    );
  });

  it('prints MapTable with its module', () => {
    expect(new nn.MapTable(new nn.Sequential().add(new nn.Linear(2, 2))).toString()).toBe(
      [
        'nn.MapTable {',
        '  nn.Sequential {',
        '          [input -> (1) -> output]',
        '          (1): nn.Linear(2 -> 2)',
        '        }',
        '}',
      ].join('\n'),
    );
    expect(new nn.MapTable().toString()).toBe('nn.MapTable { }');
  });
});

describe('memory', () => {
  it('table modules inside tidy leave nothing behind', () => {
    const m = new nn.Sequential()
      .add(new nn.SplitTable(0))
      .add(new nn.MapTable(new nn.Linear(3, 3)))
      .add(new nn.ConcatTable().add(new nn.CAddTable()).add(new nn.SelectTable(0)))
      .add(new nn.FlattenTable())
      .add(new nn.JoinTable(0));
    const x = randn([4, 3]);
    const step = () =>
      tidy(() => {
        const y = m.forward(x) as Tensor;
        m.backward(x, ones(y.shape));
      });
    step();
    const before = memory();
    for (let i = 0; i < 5; i++) step();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
  });
});
