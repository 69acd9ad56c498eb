import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  manualSeed,
  mul,
  nn,
  noGrad,
  randn,
  sqrt,
  square,
  sub,
  sum,
  tensor,
  tidy,
} from '@webrnn/rnn';

const f64 = { dtype: 'float64' as const };
const T = 3;
const N = 2;

type Seq = InstanceType<typeof nn.Sequencer>;

/** sum(outputs * R): the scalar the gradients are of (plus the stabiliser's penalty, when `beta`). */
function objective(m: Seq, xs: Tensor[], R: Tensor[], beta: number): number {
  return noGrad(() =>
    tidy(() => {
      const outs = m.forward(xs) as Tensor[];
      let total = 0;
      outs.forEach((o, t) => {
        total += sum(mul(o, R[t]!)).itemSync();
      });
      if (beta > 0) {
        // NormStabilizer sits on the outputs here; its penalty, as Torch's gradient implies it.
        const norm = (h: Tensor) => sqrt(sum(square(h), 1));
        for (let t = 1; t < T; t++)
          total += (beta / N) * sum(square(sub(norm(outs[t]!), norm(outs[t - 1]!)))).itemSync();
      }
      return total;
    }),
  );
}

/** Torch-style backward vs central differences, for the input and every parameter (a few entries each). */
function check(make: () => Seq, inputSize: number, outputSize: number, beta = 0) {
  manualSeed(11);
  const m = make();
  const xs = Array.from({ length: T }, () => randn([N, inputSize], f64));
  const R = Array.from({ length: T }, () => randn([N, outputSize], f64));
  m.zeroGradParameters();
  m.forward(xs);
  const gIn = m.backward(xs, R) as Tensor[];
  const eps = 1e-6;
  const [params, grads] = m.parameters();
  for (const [k, p] of [...params, xs[0]!, xs[T - 1]!].entries()) {
    const analytic =
      k < params.length ? grads[k]!.dataSync() : gIn[k === params.length ? 0 : T - 1]!.dataSync();
    const base = Float64Array.from(p.dataSync());
    for (let e = 0; e < Math.min(4, base.length); e++) {
      const at = (d: number) => {
        const v = Float64Array.from(base);
        v[e] = v[e]! + d;
        noGrad(() => p.copy_(tensor(v, { shape: p.shape, dtype: 'float64' })));
        return objective(m, xs, R, beta);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      noGrad(() => p.copy_(tensor(base, { shape: p.shape, dtype: 'float64' })));
      expect(Math.abs(analytic[e]! - numeric), `tensor ${k} element ${e}`).toBeLessThan(
        1e-6 + 1e-5 * Math.abs(numeric),
      );
    }
  }
}

describe('Recurrent, Recurrence and NormStabilizer gradients (float64, Torch-style vs finite differences)', () => {
  it('Recurrent', () => {
    check(
      () =>
        new nn.Sequencer(
          new nn.Recurrent(4, new nn.Linear(3, 4), new nn.Linear(4, 4), new nn.Tanh(), 5),
        ).double(),
      3,
      4,
    );
  });

  it('Recurrence', () => {
    check(
      () =>
        new nn.Sequencer(
          new nn.Recurrence(
            new nn.Sequential()
              .add(new nn.ParallelTable().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 4)))
              .add(new nn.CAddTable())
              .add(new nn.Tanh()),
            4,
            1,
          ),
        ).double(),
      3,
      4,
    );
  });

  it('NormStabilizer adds its penalty gradient and leaves outputs unchanged', () => {
    check(
      () =>
        new nn.Sequencer(
          new nn.Sequential().add(new nn.FastLSTM(3, 4)).add(new nn.NormStabilizer(0.7)),
        ).double(),
      3,
      4,
      0.7,
    );
    manualSeed(2);
    const x = randn([N, 4], f64);
    const ns = new nn.NormStabilizer();
    expect(Array.from((ns.forward(x) as Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
    expect(() => ns.forward(randn([4], f64))).toThrow(
      'nn.NormStabilizer: input: has shape [4], expected a batch [N, H]',
    );
  });

  it('the first step of Recurrent goes through start, later ones through merge and feedback', () => {
    manualSeed(4);
    const r = new nn.Recurrent(2, new nn.Identity(), new nn.MulConstant(0), new nn.Identity(), 5).double();
    const x = tensor([[1, 2]], f64);
    const bias = Array.from((r.startModule.parameters()[0][0] as Tensor).dataSync());
    expect(Array.from((r.forward(x) as Tensor).dataSync())).toEqual([1 + bias[0]!, 2 + bias[1]!]);
    expect(Array.from((r.forward(x) as Tensor).dataSync())).toEqual([1, 2]);
  });
});

describe('Repeater and RepeaterCriterion', () => {
  it('apply the module rho times to one input; Torch-style gradients equal the tape', () => {
    const grads = (torchStyle: boolean) => {
      manualSeed(8);
      const m = new nn.Repeater(new nn.FastLSTM(3, 4), 3).double();
      const c = new nn.RepeaterCriterion(new nn.MSECriterion());
      const x = randn([2, 3], f64).requiresGrad_();
      const y = randn([2, 4], f64);
      const out = m.forward(x) as Tensor[];
      expect(out.length).toBe(3);
      if (torchStyle) {
        c.forward(out, y);
        const gi = m.backward(x, c.backward(out, y)) as Tensor;
        return [...m.parameters()[1], gi].map((g) => Array.from(g.dataSync()));
      }
      c.forward(out, y).backward();
      return [...m.parameters()[0].map((p) => p.grad!), x.grad!].map((g) => Array.from(g.dataSync()));
    };
    const a = grads(true);
    const b = grads(false);
    a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, 10)));
    expect(new nn.Repeater(new nn.Linear(2, 2), 2).toString()).toBe(
      'nn.Repeater @ nn.Recursor @ nn.Linear(2 -> 2)',
    );
    expect(() => new nn.RepeaterCriterion(new nn.MSECriterion()).forward(randn([2]), randn([2]))).toThrow(
      'nn.RepeaterCriterion(nn.MSECriterion): input: expected a table of step outputs (e.g. from nn.Repeater)',
    );
  });
});
