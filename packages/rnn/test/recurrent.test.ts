import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  add,
  manualSeed,
  mse,
  mul,
  nn,
  noGrad,
  randint,
  randn,
  sum,
  tensor,
  tidy,
} from '@webrnn/rnn';
import {
  arr,
  checkAgainstFiniteDifferences,
  expectActivityClose,
  expectClose,
  f64,
  gradValues,
  seqObjective,
  values,
} from './recurrentHelpers.js';

function elman(rho = 5) {
  return new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4), new nn.Tanh(), rho).double();
}

describe('nn.Recurrent', () => {
  it("prints Torch's tree, nested modules included", () => {
    const feedback = new nn.Sequential()
      .add(new nn.Linear(7, 12))
      .add(new nn.Sigmoid())
      .add(new nn.Linear(12, 7));
    const r = new nn.Recurrent(7, new nn.LookupTable(10, 7), feedback, new nn.Sigmoid(), 5);
    expect(r.toString()).toBe(
      [
        'nn.Recurrent {',
        '  [{input(t), output(t-1)} -> (1) -> (2) -> (3) -> output(t)]',
        '  (1):  {',
        '    input(t)',
        '      |`-> (t==0): nn.Add',
        '      |`-> (t~=0): nn.LookupTable',
        '    output(t-1)',
        '      |`-> nn.Sequential {',
        '      |      [input -> (1) -> (2) -> (3) -> output]',
        '      |      (1): nn.Linear(7 -> 12)',
        '      |      (2): nn.Sigmoid',
        '      |      (3): nn.Linear(12 -> 7)',
        '      |    }',
        '  }',
        '  (2): nn.CAddTable',
        '  (3): nn.Sigmoid',
        '}',
      ].join('\n'),
    );
    // A multi-line start module: Torch indents its continuation lines by four spaces (Recurrent.lua).
    const s = new nn.Recurrent(
      new nn.Sequential().add(new nn.Add(2)),
      new nn.Identity(),
      new nn.Identity(),
    ).toString();
    expect(s).toContain(
      '      |`-> (t==0): nn.Sequential {\n    |      [input -> (1) -> output]\n    |      (1): nn.Add\n    |    }\n',
    );
  });

  it('has Torch defaults and parameter order: start (nn.Add), input, feedback; transfer Sigmoid, merge CAddTable', () => {
    const r = new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4, false));
    expect(r.rho).toBe(5);
    expect(r.startModule.typeName).toBe('nn.Add');
    expect(r.transferModule.typeName).toBe('nn.Sigmoid');
    expect(r.mergeModule.typeName).toBe('nn.CAddTable');
    expect(r.parameters()[0].map((p) => p.shape)).toEqual([[4], [4, 3], [4], [4, 4]]);
  });

  it('goes through start at the first step, through merge and feedback afterwards, and again after forget()', () => {
    manualSeed(4);
    const r = new nn.Recurrent(2, new nn.Identity(), new nn.MulConstant(0.5), new nn.Identity(), 5).double();
    const x = tensor([[1, 2]], f64);
    const b = arr(r.startModule.parameters()[0][0]!);
    const h1 = [1 + b[0]!, 2 + b[1]!];
    expect(arr(r.forward(x) as Tensor)).toEqual(h1);
    expect(arr(r.forward(x) as Tensor)).toEqual([1 + 0.5 * h1[0]!, 2 + 0.5 * h1[1]!]);
    r.forget();
    expect(arr(r.forward(x) as Tensor)).toEqual(h1);
    // A state set before the first step replaces start: the first step then uses feedback.
    r.forget();
    r.setHiddenState(tensor([[4, 6]], f64));
    expect(arr(r.forward(x) as Tensor)).toEqual([3, 5]);
  });

  it('evaluation gives the outputs of training, one step at a time', () => {
    manualSeed(5);
    const a = elman();
    const b = elman();
    noGrad(() => b.parameters()[0].forEach((p, i) => p.copy_(a.parameters()[0][i]!)));
    b.evaluate();
    for (let t = 0; t < 7; t++) {
      const x = randn([2, 3], f64);
      expectActivityClose(b.forward(x), a.forward(x), 1e-12, `step ${t}`);
    }
  });

  it('gradients: Torch-style (Sequencer and step-wise Recursor) vs central differences (float64, 3 steps)', () => {
    manualSeed(11);
    const T = 3;
    const xs = Array.from({ length: T }, () => randn([2, 3], f64));
    const R = Array.from({ length: T }, () => randn([2, 4], f64));
    // Sequencer: one backward over the sequence.
    const seq = new nn.Sequencer(elman());
    seq.zeroGradParameters();
    seq.forward(xs);
    const gIn = seq.backward(xs, R) as Tensor[];
    const params = seq.parameters()[0];
    checkAgainstFiniteDifferences([...params, ...xs], [...gradValues(seq), ...gIn.map(arr)], () =>
      seqObjective(seq, xs, R),
    );
    // Recursor: one backward per step, in reverse order, gives the same numbers.
    const r = elman();
    noGrad(() => r.parameters()[0].forEach((p, i) => p.copy_(params[i]!)));
    const rec = new nn.Recursor(r);
    rec.zeroGradParameters();
    for (const x of xs) rec.forward(x);
    const g2: number[][] = [];
    for (let t = T - 1; t >= 0; t--) g2[t] = arr(rec.backward(xs[t]!, R[t]!) as Tensor);
    expectClose(gradValues(rec), gradValues(seq), 1e-12, 'parameters');
    expectClose(g2, gIn.map(arr), 1e-12, 'gradInput');
  });

  it('gradients through LookupTable input and getParameters (Recurrent_checkgrad)', () => {
    manualSeed(12);
    const rnn = new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Recurrent(2, new nn.LookupTable(2, 2), new nn.Linear(2, 2)))
        .add(new nn.Linear(2, 2)),
    ).double();
    const crit = new nn.SequencerCriterion(new nn.MSECriterion());
    const inputs = [0, 1].map(() => randint(0, 2, [3]));
    const targets = [0, 1].map(() => randn([3, 2], f64));
    const [flatP, flatG] = rnn.getParameters();
    const loss = () => noGrad(() => tidy(() => crit.forward(rnn.forward(inputs), targets).itemSync()));
    rnn.zeroGradParameters();
    const out = rnn.forward(inputs);
    crit.forward(out, targets);
    rnn.backward(inputs, crit.backward(out, targets));
    checkAgainstFiniteDifferences([flatP], [arr(flatG)], loss, { perTensor: 30 });
  });

  it('a table-valued state (Recurrent_TestTable): Torch-style gradients equal the tape', () => {
    const build = () => {
      manualSeed(21);
      const fb = () =>
        new nn.Sequential().add(new nn.Linear(7, 12)).add(new nn.Sigmoid()).add(new nn.Linear(12, 7));
      return new nn.Recurrent(
        new nn.ParallelTable().add(new nn.Add(7)).add(new nn.Add(7)),
        new nn.ParallelTable().add(new nn.Linear(10, 7)).add(new nn.Linear(10, 7)),
        new nn.ParallelTable().add(fb()).add(fb()),
        new nn.ParallelTable().add(new nn.Sigmoid()).add(new nn.Sigmoid()),
        10,
        new nn.ParallelTable().add(new nn.CAddTable()).add(new nn.CAddTable()),
      ).double();
    };
    manualSeed(22);
    const input = randn([4, 10], f64);
    const err = randn([4, 7], f64);
    const T = 10;
    const a = build();
    for (let t = 0; t < T; t++) a.forward([input, input.clone()]);
    const gi: number[][][] = [];
    for (let t = T - 1; t >= 0; t--) gi.push(values(a.backward([input, input.clone()], [err, err.clone()])));
    const b = build();
    let loss: Tensor | null = null;
    const xin = input.clone().requiresGrad_();
    for (let t = 0; t < T; t++) {
      const [h1, h2] = b.forward([xin, xin]) as Tensor[];
      const l = add(sum(mul(h1!, err)), sum(mul(h2!, err)));
      loss = loss ? add(loss, l) : l;
    }
    loss!.backward();
    expectClose(
      gradValues(a),
      b.parameters()[0].map((p) => arr(p.grad!)),
      1e-10,
      'parameters',
    );
    const total = gi.reduce((s, g) => s.map((v, i) => v + g[0]![i]! + g[1]![i]!), new Array(40).fill(0));
    expectClose([total], [arr(xin.grad!)], 1e-10, 'input');
  });

  it('one step on one sample, inside a plain Sequential (Recurrent_oneElement)', () => {
    manualSeed(6);
    const seq = new nn.Sequential()
      .add(new nn.Recurrent(100, new nn.Linear(200, 100), new nn.Linear(100, 100), new nn.Sigmoid(), 5))
      .add(new nn.Linear(100, 2))
      .double();
    const x = randn([200], f64);
    const target = randn([2], f64);
    const crit = new nn.MSECriterion();
    const out = seq.forward(x);
    crit.forward(out, target);
    const gi = seq.backward(x, crit.backward(out, target)) as Tensor;
    expect(gi.shape).toEqual([200]);
    // The gradient reached the first step's start bias (the input layer too).
    expect(arr(seq.parameters()[1][0]!).some((v) => v !== 0)).toBe(true);
    const before = mse(seq.forward(x) as Tensor, target).itemSync();
    seq.updateParameters(0.01);
    (seq.get(0) as InstanceType<typeof nn.Recurrent>).forget();
    expect(mse(seq.forward(x) as Tensor, target).itemSync()).toBeLessThan(before);
  });

  it("takes start as a shape (Torch's LongStorage): a learned [2, 3] bias for the first step", () => {
    manualSeed(6);
    const r = new nn.Recurrent([2, 3], new nn.View([2, 3]), new nn.Identity(), new nn.Tanh(), 4);
    expect((r.startModule as InstanceType<typeof nn.Add>).bias.shape).toEqual([2, 3]);
    const x = randn([5, 6]);
    const y = r.forward(x) as Tensor;
    expect(y.shape).toEqual([5, 2, 3]);
    // The first step is tanh(start(input(x))) = tanh(x + b), the bias broadcast over the batch.
    const b = (r.startModule as InstanceType<typeof nn.Add>).bias;
    const want = x.reshape([5, 2, 3]).add(b).tanh();
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want.dataSync()[i]!, 6));
  });

  it('refuses bad constructor arguments with clear messages', () => {
    const lin = () => new nn.Linear(2, 2);
    expect(() => new nn.Recurrent(0, lin(), lin())).toThrow(
      'nn.Recurrent: start must be a module, a positive size or a shape of positive sizes, got 0',
    );
    expect(() => new nn.Recurrent('7' as never, lin(), lin())).toThrow(
      'nn.Recurrent: start must be a module, a positive size or a shape of positive sizes, got 7',
    );
    expect(() => new nn.Recurrent([2, 0], lin(), lin())).toThrow('got [2, 0]');
    expect(() => new nn.Recurrent(2, null as never, lin())).toThrow(
      'nn.Recurrent: input must be a module, got null',
    );
    expect(() => new nn.Recurrent(2, lin(), lin(), new nn.Sigmoid(), 0)).toThrow(
      'rho must be a positive integer, got 0',
    );
  });
});
