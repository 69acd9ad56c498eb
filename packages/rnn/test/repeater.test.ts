import { describe, expect, it } from 'vitest';
import { type Tensor, add, manualSeed, mul, nn, noGrad, randint, randn, stack, sum, tidy } from '@webrnn/rnn';
import {
  arr,
  checkAgainstFiniteDifferences,
  copyParams,
  expectActivityClose,
  expectClose,
  f64,
  gradValues,
  paramValues,
  values,
} from './recurrentHelpers.js';

type Module = InstanceType<typeof nn.Module>;

const recurrent = () =>
  new nn.Recurrent(7, new nn.Linear(10, 7), new nn.Linear(7, 7), new nn.Sigmoid(), 5).double();

/** sum over steps of sum(output(t) * R(t)). */
function objective(m: Module, x: Tensor, R: Tensor[]): number {
  return noGrad(() =>
    tidy(() => (m.forward(x) as Tensor[]).reduce((s, o, t) => s + sum(mul(o, R[t]!)).itemSync(), 0)),
  );
}

describe('nn.Repeater', () => {
  it('equals the recurrent module stepped by hand on the same input; its gradInput is the sum of the steps', () => {
    manualSeed(1);
    const [N, nStep] = [4, 5];
    const rnn = recurrent();
    const rnn2 = recurrent();
    copyParams(rnn, rnn2);
    const input = randn([N, 10], f64);
    const outputs: Tensor[] = [];
    const gradOutputs = Array.from({ length: nStep }, () => randn([N, 7], f64));
    for (let t = 0; t < nStep; t++) outputs.push(rnn.forward(input) as Tensor);
    const gradInputs: Tensor[] = [];
    for (let t = nStep - 1; t >= 0; t--) gradInputs[t] = rnn.backward(input, gradOutputs[t]!) as Tensor;
    const rep = new nn.Repeater(rnn2, nStep);
    const outputs3 = rep.forward(input) as Tensor[];
    expect(outputs3.length).toBe(nStep);
    expectActivityClose(outputs3, outputs, 1e-12, 'outputs');
    const gradInput3 = rep.backward(input, gradOutputs) as Tensor;
    const total = gradInputs.slice(1).reduce((s, g) => add(s, g), gradInputs[0]!);
    expectActivityClose(gradInput3, total, 1e-12, 'gradInput');
    expectClose(gradValues(rep), gradValues(rnn), 1e-12, 'gradParameters');
  });

  it('Repeater(Recurrent) equals Repeater(Sequential(Identity, Recurrent)) through a Recursor', () => {
    manualSeed(2);
    const rnn = recurrent();
    const rnn2 = recurrent();
    copyParams(rnn, rnn2);
    const r3 = new nn.Repeater(rnn, 5);
    const r4 = new nn.Repeater(new nn.Sequential().add(new nn.Identity()).add(rnn2), 5);
    expect(r4.module.typeName).toBe('nn.Recursor');
    const input = randn([4, 10], f64);
    const gradOutputs = Array.from({ length: 5 }, () => randn([4, 7], f64));
    r3.zeroGradParameters();
    r4.zeroGradParameters();
    expectActivityClose(r3.forward(input), r4.forward(input), 1e-14, 'outputs');
    expectActivityClose(r3.backward(input, gradOutputs), r4.backward(input, gradOutputs), 1e-14, 'gradInput');
    r3.updateParameters(1);
    r4.updateParameters(1);
    expectClose(paramValues(r3), paramValues(r4), 1e-14, 'parameters');
    expectClose(gradValues(r3), gradValues(r4), 1e-14, 'gradParameters');
  });

  it('gradients: Torch-style vs central differences (Recurrent and FastLSTM, float64, 3 steps)', () => {
    for (const make of [recurrent, () => new nn.FastLSTM(10, 7).double()]) {
      manualSeed(3);
      const rep = new nn.Repeater(make(), 3);
      const x = randn([2, 10], f64);
      const R = Array.from({ length: 3 }, () => randn([2, 7], f64));
      rep.zeroGradParameters();
      rep.forward(x);
      const gi = rep.backward(x, R) as Tensor;
      checkAgainstFiniteDifferences([...rep.parameters()[0], x], [...gradValues(rep), arr(gi)], () =>
        objective(rep, x, R),
      );
    }
  });

  it('Torch-style gradients equal the tape; the initial state set by the user gets its gradient', () => {
    const run = (torchStyle: boolean) => {
      manualSeed(8);
      const m = new nn.Repeater(new nn.FastLSTM(3, 4), 3).double();
      const c = new nn.RepeaterCriterion(new nn.MSECriterion());
      const x = randn([2, 3], f64).requiresGrad_();
      const y = randn([2, 4], f64);
      const out = m.forward(x) as Tensor[];
      if (torchStyle) {
        c.forward(out, y);
        const gi = m.backward(x, c.backward(out, y)) as Tensor;
        return [...gradValues(m), arr(gi)];
      }
      c.forward(out, y).backward();
      return [...m.parameters()[0].map((p) => arr(p.grad!)), arr(x.grad!)];
    };
    expectClose(run(true), run(false), 1e-12, 'Torch-style vs tape');

    manualSeed(4);
    const inner = new nn.Recurrence(
      new nn.Sequential()
        .add(new nn.ParallelTable().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 4)))
        .add(new nn.CAddTable())
        .add(new nn.Tanh()),
      4,
      1,
    ).double();
    const rep = new nn.Repeater(inner, 3);
    const h0 = randn([2, 4], f64);
    // A start for every sequence (the Repeater forgets before each forward, which clears setHiddenState's).
    inner.userState = h0;
    const x = randn([2, 3], f64);
    const R = Array.from({ length: 3 }, () => randn([2, 4], f64));
    rep.forward(x);
    rep.backward(x, R);
    checkAgainstFiniteDifferences([h0], [arr(inner.gradPrevState as Tensor)], () => objective(rep, x, R));
  });

  it("prints Torch's Repeater box and refuses bad arguments", () => {
    expect(new nn.Repeater(new nn.Linear(2, 2), 3).toString()).toBe(
      [
        'nn.Repeater {',
        '  [  input,    input,  ...,  input  ]',
        '       V         V             V     ',
        '  nn.Recursor @ nn.Linear(2 -> 2)',
        '       V         V             V     ',
        '  [output(1),output(2),...,output(3)]',
        '}',
      ].join('\n'),
    );
    expect(() => new nn.Repeater(new nn.Linear(2, 2), 0)).toThrow(
      'nn.Repeater: rho (the number of steps) must be a positive integer, got 0',
    );
    expect(() => new nn.Repeater(null as never, 2)).toThrow(
      'nn.Repeater: expected a module to repeat, got null',
    );
    const rep = new nn.Repeater(new nn.Linear(2, 2), 3);
    const x = randn([1, 2]);
    expect(() => rep.backward(x, [randn([1, 2])])).toThrow(
      'nn.Repeater: backward: called before forward: there is no output to backpropagate from',
    );
    rep.forward(x);
    expect(() => rep.backward(x, [randn([1, 2]), randn([1, 2])])).toThrow(
      'nn.Repeater: backward: gradOutput is {[1, 2], [1, 2]}, expected a table of 3 step gradients like the output {[1, 2], [1, 2], [1, 2]}',
    );
  });
});

describe('nn.RepeaterCriterion', () => {
  it('adds the criterion over the steps with one target; a tensor [T, ...] equals the table of its steps', () => {
    manualSeed(5);
    const [N, C, nStep] = [4, 10, 5];
    const criterion = new nn.ClassNLLCriterion();
    const sc = new nn.RepeaterCriterion(new nn.ClassNLLCriterion());
    const input = Array.from({ length: nStep }, () => randn([N, C], f64));
    const target = randint(0, C, [N]);
    let err2 = 0;
    const gradInput2: number[][] = [];
    for (const x of input) {
      err2 += criterion.forward(x, target).itemSync();
      gradInput2.push(arr(criterion.backward(x, target) as Tensor));
    }
    expect(sc.forward(input, target).itemSync()).toBeCloseTo(err2, 12);
    expectClose(values(sc.backward(input, target)), gradInput2, 1e-14, 'gradInput');
    const asTensor = stack(input);
    expect(sc.forward(asTensor, target).itemSync()).toBeCloseTo(err2, 12);
    const g = sc.backward(asTensor, target) as Tensor;
    expect(g.shape).toEqual([nStep, N, C]);
    expectClose([arr(g)], [gradInput2.flat()], 1e-14, 'gradInput (tensor)');
    expect(sc.toString()).toBe('nn.RepeaterCriterion(nn.ClassNLLCriterion)');
    expect(() => sc.forward([], target)).toThrow(
      'nn.RepeaterCriterion(nn.ClassNLLCriterion): input: expected a table of step outputs (e.g. from nn.Repeater), got an empty table',
    );
    expect(() => new nn.RepeaterCriterion(new nn.Linear(2, 2) as never)).toThrow(
      'nn.RepeaterCriterion: expected a criterion to decorate, got nn.Linear(2 -> 2)',
    );
  });
});
