import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  add,
  manualSeed,
  mul,
  nn,
  noGrad,
  randn,
  sqrt,
  square,
  sub,
  sum,
  tidy,
} from '@webrnn/rnn';
import {
  arr,
  checkAgainstFiniteDifferences,
  copyParams,
  expectClose,
  f64,
  gradValues,
  values,
} from './recurrentHelpers.js';

type Module = InstanceType<typeof nn.Module>;

/** The penalty as Element-research's gradient implies it: beta / N * sum over t >= 1 of (||h(t)|| - ||h(t-1)||)^2. */
function penalty(hs: Tensor[], beta: number): number {
  const norm = (h: Tensor) => sqrt(sum(square(h), 1));
  let total = 0;
  for (let t = 1; t < hs.length; t++)
    total += (beta / hs[t]!.shape[0]!) * sum(square(sub(norm(hs[t]!), norm(hs[t - 1]!)))).itemSync();
  return total;
}

/** sum(outputs * R) plus the penalty of the stabilised layers' outputs `probe(outs)`. */
function objective(m: Module, xs: Tensor[], R: Tensor[], beta: number, probe: () => Tensor[][]): number {
  return noGrad(() =>
    tidy(() => {
      const outs = m.forward(xs) as Tensor[];
      let total = outs.reduce((s, o, t) => s + sum(mul(o, R[t]!)).itemSync(), 0);
      for (const hs of probe()) total += penalty(hs, beta);
      return total;
    }),
  );
}

/** Records the outputs of a module at each step (the states the stabiliser sees). */
function recorder(): { module: Module; outs: Tensor[] } {
  const outs: Tensor[] = [];
  const module = new nn.Identity();
  const orig = module.forward.bind(module);
  module.forward = (x) => {
    const y = orig(x);
    outs.push(y as Tensor);
    return y;
  };
  return { module, outs };
}

describe('nn.NormStabilizer', () => {
  it('passes every step through unchanged, prints like Torch, refuses non-batch inputs', () => {
    manualSeed(2);
    const ns = new nn.NormStabilizer();
    for (let t = 0; t < 3; t++) {
      const x = randn([3, 4], f64);
      expect(arr(ns.forward(x) as Tensor)).toEqual(arr(x));
    }
    ns.evaluate();
    const x = randn([3, 4], f64);
    expect(arr(ns.forward(x) as Tensor)).toEqual(arr(x));
    expect(ns.toString()).toBe('nn.NormStabilizer');
    expect(ns.beta).toBe(1);
    expect(() => ns.forward(randn([4], f64))).toThrow(
      'nn.NormStabilizer: input: has shape [4], expected a batch [N, H]',
    );
    expect(() => new nn.NormStabilizer(-1)).toThrow('nn.NormStabilizer: beta must be >= 0, got -1');
  });

  it("adds the gradient of beta/N sum_t (||h(t)|| - ||h(t-1)||)^2 to gradOutput (Element-research's formula)", () => {
    manualSeed(3);
    const [N, D, T, beta] = [3, 4, 4, 50];
    const seq = new nn.Sequencer(new nn.NormStabilizer(beta));
    const inputs = Array.from({ length: T }, () => randn([N, D], f64));
    const gradOutputs = Array.from({ length: T }, () => randn([N, D], f64));
    const outputs = seq.forward(inputs) as Tensor[];
    expectClose(values(outputs), inputs.map(arr), 0, 'outputs');
    const gradInputs = seq.backward(inputs, gradOutputs) as Tensor[];
    // The reference: Element-research's test (NormStabilizerTest), row by row.
    const h = inputs.map((x) => {
      const v = arr(x);
      return Array.from({ length: N }, (_, i) => v.slice(i * D, (i + 1) * D));
    });
    const norm = (r: number[]) => Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    const want = gradOutputs.map((g, t) => {
      const out = arr(g);
      for (let i = 0; i < N; i++) {
        const n = norm(h[t]![i]!);
        let d = 0;
        if (t > 0) d += (beta * 2 * (n - norm(h[t - 1]![i]!))) / N;
        if (t < T - 1) d += (beta * -2 * (norm(h[t + 1]![i]!) - n)) / N;
        for (let j = 0; j < D; j++) out[i * D + j]! += (d * h[t]![i]![j]!) / n;
      }
      return out;
    });
    expectClose(gradInputs.map(arr), want, 1e-12, 'gradInputs');
    // Step-wise (Recursor) backward carries the penalty's gradient to the previous step the same way.
    const rec = new nn.Recursor(new nn.NormStabilizer(beta));
    for (const x of inputs) rec.forward(x);
    const g: number[][] = [];
    for (let t = T - 1; t >= 0; t--) g[t] = arr(rec.backward(inputs[t]!, gradOutputs[t]!) as Tensor);
    expectClose(g, want, 1e-12, 'step-wise gradInputs');
  });

  it('between recurrent layers: gradients match central differences over several SGD steps (Recurrent, beta 50)', () => {
    manualSeed(4);
    const [N, T, H, D, beta] = [3, 2, 3, 4, 50];
    const rec = recorder();
    const rnn = new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Recurrent(H, new nn.Linear(D, H), new nn.Linear(H, H), new nn.Sigmoid(), T))
        .add(rec.module)
        .add(new nn.NormStabilizer(beta)),
    ).double();
    const crit = new nn.SequencerCriterion(new nn.MSECriterion());
    for (let iteration = 0; iteration < 4; iteration++) {
      const inputs = Array.from({ length: T }, () => randn([N, D], f64));
      const targets = Array.from({ length: T }, () => randn([N, H], f64));
      const loss = () =>
        noGrad(() =>
          tidy(() => {
            rec.outs.length = 0;
            return crit.forward(rnn.forward(inputs), targets).itemSync() + penalty(rec.outs, beta);
          }),
        );
      rnn.zeroGradParameters();
      const outputs = rnn.forward(inputs);
      crit.forward(outputs, targets);
      rnn.backward(inputs, crit.backward(outputs, targets));
      checkAgainstFiniteDifferences(rnn.parameters()[0], gradValues(rnn), loss, { tol: 1e-5 });
      rnn.updateParameters(0.1);
    }
  });

  it("in the README's stack FastLSTM, NormStabilizer, FastLSTM, NormStabilizer: Torch-style = tape = central differences", () => {
    const build = () => {
      manualSeed(6);
      const r1 = recorder();
      const r2 = recorder();
      const m = new nn.Sequencer(
        new nn.Sequential()
          .add(new nn.FastLSTM(3, 4))
          .add(r1.module)
          .add(new nn.NormStabilizer(0.7))
          .add(new nn.FastLSTM(4, 4))
          .add(r2.module)
          .add(new nn.NormStabilizer(0.7)),
      ).double();
      return { m, probe: () => [r1.outs.splice(0), r2.outs.splice(0)] };
    };
    manualSeed(7);
    const xs = Array.from({ length: 3 }, () => randn([2, 3], f64));
    const R = Array.from({ length: 3 }, () => randn([2, 4], f64));
    const a = build();
    a.m.zeroGradParameters();
    a.m.forward(xs);
    const gIn = a.m.backward(xs, R) as Tensor[];
    a.probe();
    checkAgainstFiniteDifferences(
      [...a.m.parameters()[0], ...xs],
      [...gradValues(a.m), ...gIn.map(arr)],
      () => objective(a.m, xs, R, 0.7, a.probe),
    );
    // The tape: loss.backward() of sum(outputs * R) backpropagates the penalties too.
    const b = build();
    const outs = b.m.forward(xs) as Tensor[];
    outs
      .map((o, t) => sum(mul(o, R[t]!)))
      .reduce((s, l) => add(s, l))
      .backward();
    expectClose(
      b.m.parameters()[0].map((p) => arr(p.grad!)),
      gradValues(a.m),
      1e-12,
      'tape vs Torch-style',
    );
    // Step-wise through a Recursor: the same gradients.
    const c = build();
    const rec = new nn.Recursor((c.m.module as InstanceType<typeof nn.Recursor>).module);
    for (const x of xs) rec.forward(x);
    for (let t = 2; t >= 0; t--) rec.backward(xs[t]!, R[t]!);
    expectClose(gradValues(c.m), gradValues(a.m), 1e-12, 'step-wise vs Sequencer');
    // Copying the parameters into a fresh model reproduces the loss.
    const d = build();
    copyParams(a.m, d.m);
    expect(objective(d.m, xs, R, 0.7, d.probe)).toBeCloseTo(objective(a.m, xs, R, 0.7, a.probe), 12);
  });
});
