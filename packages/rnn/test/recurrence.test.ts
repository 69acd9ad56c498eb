import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, noGrad, randint, randn } from '@webrnn/rnn';
import {
  arr,
  checkAgainstFiniteDifferences,
  copyParams,
  expectActivityClose,
  expectClose,
  f64,
  gradValues,
  seqObjective,
  paramValues,
  values,
} from './recurrentHelpers.js';
import { rnnStep } from './helpers/modules.js';

type Module = InstanceType<typeof nn.Module>;

/**
 * FastLSTM's cell written as a module from nn building blocks: {x, {h, c}} -> {h', c'}, with gates
 * i2g(x) + o2g(h) in FastLSTM's order (input gate, candidate, forget gate, output gate).
 */
function lstmCell(inputSize: number, H: number): Module {
  const gates = new nn.Sequential()
    .add(
      new nn.ParallelTable()
        .add(new nn.Linear(inputSize, 4 * H))
        .add(new nn.Sequential().add(new nn.SelectTable(0)).add(new nn.Linear(H, 4 * H, false))),
    )
    .add(new nn.CAddTable())
    .add(new nn.View(4, H).setNumInputDims(1))
    .add(new nn.SplitTable(0, 2))
    .add(
      new nn.ParallelTable()
        .add(new nn.Sigmoid())
        .add(new nn.Tanh())
        .add(new nn.Sigmoid())
        .add(new nn.Sigmoid()),
    );
  const cPrev = new nn.Sequential().add(new nn.SelectTable(1)).add(new nn.SelectTable(1));
  const product = (a: number, b: number) =>
    new nn.Sequential()
      .add(new nn.ConcatTable().add(new nn.SelectTable(a)).add(new nn.SelectTable(b)))
      .add(new nn.CMulTable());
  // {i, z, f, o, c} -> {c' = f c + i z, o}
  const cell = new nn.ConcatTable()
    .add(
      new nn.Sequential()
        .add(new nn.ConcatTable().add(product(0, 1)).add(product(2, 4)))
        .add(new nn.CAddTable()),
    )
    .add(new nn.SelectTable(3));
  // {c', o} -> {h' = o tanh(c'), c'}
  const out = new nn.ConcatTable()
    .add(
      new nn.Sequential()
        .add(
          new nn.ConcatTable()
            .add(new nn.SelectTable(1))
            .add(new nn.Sequential().add(new nn.SelectTable(0)).add(new nn.Tanh())),
        )
        .add(new nn.CMulTable()),
    )
    .add(new nn.SelectTable(0));
  return new nn.Sequential()
    .add(new nn.ConcatTable().add(gates).add(cPrev))
    .add(new nn.FlattenTable())
    .add(cell)
    .add(out);
}

describe('nn.Recurrence', () => {
  it('gradients: Torch-style vs central differences (float64, 3 steps); Recursor step-wise = Sequencer', () => {
    manualSeed(11);
    const T = 3;
    const xs = Array.from({ length: T }, () => randn([2, 3], f64));
    const R = Array.from({ length: T }, () => randn([2, 4], f64));
    const seq = new nn.Sequencer(new nn.Recurrence(rnnStep(3, 4), 4, 1)).double();
    seq.zeroGradParameters();
    seq.forward(xs);
    const gIn = seq.backward(xs, R) as Tensor[];
    checkAgainstFiniteDifferences(
      [...seq.parameters()[0], ...xs],
      [...gradValues(seq), ...gIn.map(arr)],
      () => seqObjective(seq, xs, R),
    );
    const rec = new nn.Recursor(new nn.Recurrence(rnnStep(3, 4), 4, 1)).double();
    copyParams(seq, rec);
    rec.zeroGradParameters();
    for (const x of xs) rec.forward(x);
    const g2: number[][] = [];
    for (let t = T - 1; t >= 0; t--) g2[t] = arr(rec.backward(xs[t]!, R[t]!) as Tensor);
    expectClose(gradValues(rec), gradValues(seq), 1e-12, 'parameters');
    expectClose(g2, gIn.map(arr), 1e-12, 'gradInput');
  });

  it('a table-valued state: an LSTM cell written as a module equals FastLSTM (outputs, gradients, updates)', () => {
    manualSeed(3);
    const [N, D, H, T] = [4, 10, 12, 3];
    const lstm = new nn.FastLSTM(D, H).double();
    const seq2 = new nn.Sequencer(lstm);
    const recurrence = new nn.Recurrence(lstmCell(D, H), [[H], [H]], 1);
    const seq = new nn.Sequencer(new nn.Sequential().add(recurrence).add(new nn.SelectTable(0))).double();
    copyParams(seq2, seq);
    const inputs = Array.from({ length: T }, () => randn([N, D], f64));
    const gradOutputs = Array.from({ length: T }, () => randn([N, H], f64));
    for (let it = 0; it < 2; it++) {
      seq.zeroGradParameters();
      seq2.zeroGradParameters();
      expectActivityClose(seq.forward(inputs), seq2.forward(inputs), 1e-12, 'outputs');
      expectActivityClose(
        seq.backward(inputs, gradOutputs),
        seq2.backward(inputs, gradOutputs),
        1e-12,
        'gradInputs',
      );
      expectClose(gradValues(seq), gradValues(seq2), 1e-12, 'gradParameters');
      seq.updateParameters(0.1);
      seq2.updateParameters(0.1);
      expectClose(paramValues(seq), paramValues(seq2), 1e-12, 'parameters');
    }
    // The state is the table {h, c}; step-wise backward carries gradients for both.
    const rec = new nn.Recursor(new nn.Sequential().add(recurrence).add(new nn.SelectTable(0)));
    rec.forget(); // the Recurrence still holds the state of the Sequencer's last sequence
    rec.zeroGradParameters();
    for (const x of inputs) rec.forward(x);
    const g: Activity[] = [];
    for (let t = T - 1; t >= 0; t--) g[t] = rec.backward(inputs[t]!, gradOutputs[t]!);
    seq2.zeroGradParameters();
    seq2.forward(inputs);
    expectActivityClose(g, seq2.backward(inputs, gradOutputs), 1e-12, 'step-wise gradInputs');
    expectClose(gradValues(rec), gradValues(seq2), 1e-12, 'step-wise gradParameters');
  });

  it('equals nn.Recurrent when start is the feedback bias (LookupTable input, nInputDim 0)', () => {
    manualSeed(7);
    const [nIndex, H, O, N, T] = [50, 20, 12, 4, 3];
    const inputLayer = new nn.LookupTable(nIndex, H);
    const feedback = new nn.Linear(H, H);
    const output = new nn.Linear(H, O);
    const r = new nn.Recurrent(H, inputLayer, feedback, new nn.Sigmoid(), 99999);
    noGrad(() => r.startModule.parameters()[0][0]!.copy_(feedback.bias!));
    const seq2 = new nn.Sequencer(new nn.Sequential().add(r).add(output).add(new nn.LogSoftMax())).double();
    const rm = new nn.Sequential()
      .add(new nn.ParallelTable().add(inputLayer.clone()).add(feedback.clone()))
      .add(new nn.CAddTable())
      .add(new nn.Sigmoid());
    const seq = new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Recurrence(rm, H, 0))
        .add(output.clone())
        .add(new nn.LogSoftMax()),
    ).double();
    const inputs = Array.from({ length: T }, () => randint(0, nIndex, [N]));
    const gradOutputs = Array.from({ length: T }, () => randn([N, O], f64));
    seq.zeroGradParameters();
    seq2.zeroGradParameters();
    expectActivityClose(seq.forward(inputs), seq2.forward(inputs), 1e-12, 'outputs');
    seq.backward(inputs, gradOutputs);
    seq2.backward(inputs, gradOutputs);
    // Recurrent: start bias, lookup, feedback W, feedback b, output W, output b. The Recurrence's feedback bias
    // collects what Recurrent's start bias and feedback bias get.
    const [gs, gl, gw, gb, gow, gob] = gradValues(seq2);
    const sumBias = gb!.map((v, i) => v + gs![i]!);
    expectClose(gradValues(seq), [gl!, gw!, sumBias, gow!, gob!], 1e-12, 'gradParameters');
  });

  it('with a FastLSTM inside its module (Recurrence_FastLSTM): steps, evaluate/training, step-wise = Sequencer', () => {
    manualSeed(9);
    const H = 5;
    const build = () =>
      new nn.Recurrence(
        new nn.Sequential()
          .add(new nn.CSubTable())
          .add(new nn.FastLSTM(H, H))
          .add(new nn.Linear(H, H))
          .add(new nn.Sigmoid()),
        H,
        1,
      ).double();
    const rnn = build();
    const lstm = (rnn.module as InstanceType<typeof nn.Sequential>).get(1) as InstanceType<
      typeof nn.FastLSTM
    >;
    const seq = new nn.Sequencer(rnn);
    const inputs = Array.from({ length: 3 }, () => randn([4, H], f64));
    const gradOutputs = Array.from({ length: 3 }, () => randn([4, H], f64));
    for (let n = 0; n < 3; n++) {
      seq.evaluate();
      seq.training();
      seq.zeroGradParameters();
      seq.forward(inputs);
      seq.backward(inputs, gradOutputs);
      expect(rnn.step).toBe(3);
      expect(lstm.step).toBe(3);
    }
    const gIn = values(seq.backward(inputs, gradOutputs));
    seq.zeroGradParameters();
    seq.backward(inputs, gradOutputs);
    const rec = new nn.Recursor(build());
    copyParams(seq, rec);
    rec.zeroGradParameters();
    for (const x of inputs) rec.forward(x);
    const g: number[][] = [];
    for (let t = 2; t >= 0; t--) g[t] = arr(rec.backward(inputs[t]!, gradOutputs[t]!) as Tensor);
    expectClose(g, gIn, 1e-12, 'gradInputs');
    expectClose(gradValues(rec), gradValues(seq), 1e-12, 'gradParameters');
    checkAgainstFiniteDifferences(seq.parameters()[0], gradValues(seq), () =>
      seqObjective(seq, inputs, gradOutputs),
    );
  });

  it('starts from zeros sized by outputSize and the batch (shapes, nested tables, no batch); a set state wins', () => {
    const seen: Activity[] = [];
    const spy = new nn.Sequential().add(new nn.SelectTable(1));
    const orig = spy.forward.bind(spy);
    spy.forward = (input: Activity) => {
      seen.push((input as Activity[])[1]!);
      return orig(input);
    };
    new nn.Recurrence(spy, [2, 3], 1).forward(randn([5, 7]));
    expect((seen[0] as Tensor).shape).toEqual([5, 2, 3]);
    new nn.Recurrence(spy, [[4], [[2], [3]]], 2).forward([randn([6, 7, 8]), randn([1])]);
    expect(values(seen[1]!).map((v) => v.length)).toEqual([24, 12, 18]);
    expect(
      values(seen[1]!)
        .flat()
        .every((v) => v === 0),
    ).toBe(true);
    new nn.Recurrence(spy, 4, 0).forward(randint(0, 3, []));
    expect((seen[2] as Tensor).shape).toEqual([4]);
    expect((seen[2] as Tensor).dtype).toBe('float32');
    const r = new nn.Recurrence(spy, 4, 1);
    r.setHiddenState(randn([2, 4]).add(1));
    r.forward(randn([2, 3]));
    expect(arr(seen[3] as Tensor).every((v) => v !== 0)).toBe(true);
    expect(new nn.Recurrence(new nn.Identity(), 3).toString()).toBe('nn.Recurrence @ nn.Identity');
  });

  it('refuses bad arguments and inputs with clear messages', () => {
    expect(() => new nn.Recurrence(new nn.Identity(), 0)).toThrow(
      'nn.Recurrence: outputSize must be a positive size, a shape or a table of them (e.g. 10, [10], [[10], [10]]), got 0',
    );
    expect(() => new nn.Recurrence(new nn.Identity(), [[3], 2.5] as never)).toThrow(/outputSize must be/);
    expect(() => new nn.Recurrence(new nn.Identity(), 3, -1)).toThrow(
      'nn.Recurrence: nInputDim must be a non-negative integer, got -1',
    );
    expect(() => new nn.Recurrence({} as never, 3)).toThrow('nn.Recurrence: expected a module to decorate');
    expect(() => new nn.Recurrence(rnnStep(3, 4), 4, 1).forward(randn([2, 5, 3]))).toThrow(
      'nn.Recurrence: input: has shape [2, 5, 3], but nInputDim is 1: expected 1 dimension(s) per sample, or 2 for a batch',
    );
    const r = new nn.Recurrence(rnnStep(3, 4), 4, 1);
    r.forward(randn([2, 3]));
    expect(() => r.forward(randn([5, 3]))).toThrow(
      'nn.Recurrence: input: has shape [5, 3], but the previous output has shape [2, 4] (expected [5, 4]): the batch size cannot change within a sequence (the input has batch size 5, the previous output 2); call forget() to start a new one',
    );
  });
});
