/**
 * Equivalence tests in the style of Element-research/rnn's test/test.lua (rnntest.Recurrent, Sequencer, Recursor):
 * the decorators against hand-unrolled loops over shared clones, truncation by rho, batches of different lengths
 * in any order, Torch-style backward against the tape. Everything in float64 on the CPU. Chunked sequences and
 * stacks: equivalenceRemember.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, add, manualSeed, mul, nn, randn, sum } from '@webrnn/rnn';
import { arr, expectClose, f64, gradValues, values, recurrentLayer, stepwise } from './recurrentHelpers.js';

type Module = InstanceType<typeof nn.Module>;
type Recurrent = InstanceType<typeof nn.Recurrent>;

const TOL = 1e-12;

/**
 * Torch7's way, by hand: one module per step whose parameters are shared with `r` and `head` (sharedClone), the
 * first step through start, later ones through feedback and merge; backward step by step in reverse order,
 * carrying the gradient of the previous output. `stop` steps from the start get no backward (truncation).
 */
function unrolled(r: Recurrent, head: Module, xs: Tensor[], gys: Tensor[], stop = 0) {
  const steps: Module[] = [];
  const heads: Module[] = [];
  const hs: Activity[] = [];
  const ys: Activity[] = [];
  xs.forEach((x, t) => {
    const step =
      t === 0
        ? new nn.Sequential().add(r.inputModule.sharedClone()).add(r.startModule.sharedClone())
        : new nn.Sequential()
            .add(new nn.ParallelTable().add(r.inputModule.sharedClone()).add(r.feedbackModule.sharedClone()))
            .add(new nn.CAddTable());
    step.add(r.transferModule.clone());
    steps.push(step);
    hs.push(step.forward(t === 0 ? x : [x, hs[t - 1]!]));
    heads.push(head.sharedClone());
    ys.push(heads[t]!.forward(hs[t]!));
  });
  const gxs: Activity[] = [];
  let carried: Tensor | null = null;
  for (let t = xs.length - 1; t >= stop; t--) {
    let gh = heads[t]!.backward(hs[t]!, gys[t]!) as Tensor;
    if (carried) gh = add(gh, carried);
    if (t === 0) gxs[t] = steps[t]!.backward(xs[t]!, gh);
    else {
      const [gx, gprev] = steps[t]!.backward([xs[t]!, hs[t - 1]!], gh) as Tensor[];
      gxs[t] = gx!;
      carried = gprev!;
    }
  }
  return { ys, gxs };
}

describe('Recursor and Sequencer equal a hand-unrolled loop over shared clones', () => {
  const [N, D, H, O, T] = [4, 3, 7, 5, 5];
  const model = (rho = T) => {
    manualSeed(1);
    const r = recurrentLayer(D, H, rho);
    const head = new nn.Sequential().add(new nn.Linear(H, O)).add(new nn.LogSoftMax());
    return { r, head, seq: new nn.Sequential().add(r).add(head).double() };
  };
  manualSeed(2);
  const xs = Array.from({ length: T }, () => randn([N, D], f64));
  const gys = Array.from({ length: T }, () => randn([N, O], f64));

  const reference = (stop = 0) => {
    const m = model();
    m.seq.zeroGradParameters();
    const { ys, gxs } = unrolled(m.r, m.head, xs, gys, stop);
    return { ys: ys.map(values), gxs: gxs.map((g) => (g ? values(g) : [])), grads: gradValues(m.seq) };
  };

  it('outputs, gradInputs and gradParameters (Recursor step-wise, Sequencer whole)', () => {
    const ref = reference();
    const a = model();
    const rec = new nn.Recursor(a.seq, T);
    rec.zeroGradParameters();
    const s = stepwise(rec, xs, gys);
    expectClose(s.ys.flat(), ref.ys.flat(), TOL, 'Recursor outputs');
    expectClose(s.gxs.flat(), ref.gxs.flat(), TOL, 'Recursor gradInputs');
    expectClose(gradValues(rec), ref.grads, TOL, 'Recursor gradParameters');

    const b = model();
    const seq = new nn.Sequencer(b.seq);
    seq.zeroGradParameters();
    expectClose(values(seq.forward(xs)), ref.ys.flat(), TOL, 'Sequencer outputs');
    expectClose(values(seq.backward(xs, gys)), ref.gxs.flat(), TOL, 'Sequencer gradInputs');
    expectClose(gradValues(seq), ref.grads, TOL, 'Sequencer gradParameters');

    // A Recurrent on its own, stepped by hand, equals it in a Sequencer (rnntest.Sequencer).
    const c = model();
    const d = model();
    const s2 = stepwise(
      c.r,
      xs,
      xs.map(() => randn([N, H], f64).mul(0).add(1)),
    );
    const seq2 = new nn.Sequencer(d.r);
    expectClose(values(seq2.forward(xs)), s2.ys.flat(), TOL, 'Sequencer(Recurrent) outputs');
    expectClose(
      values(
        seq2.backward(
          xs,
          xs.map(() => randn([N, H], f64).mul(0).add(1)),
        ),
      ),
      s2.gxs.flat(),
      TOL,
      'Sequencer(Recurrent) gradInputs',
    );
  });

  it('rho truncates: with rho = T - 1 the first step gets no backward (its gradInput is zero)', () => {
    const ref = reference(1);
    const a = model(T - 1);
    const rec = new nn.Recursor(a.seq, T - 1);
    rec.zeroGradParameters();
    const s = stepwise(rec, xs, gys, T - 1);
    expectClose(s.ys.flat(), ref.ys.flat(), TOL, 'outputs');
    expectClose(s.gxs.slice(1).flat(), ref.gxs.slice(1).flat(), TOL, 'gradInputs');
    expectClose(gradValues(rec), ref.grads, TOL, 'gradParameters');
    // The step beyond rho: a zero gradient and nothing added to the parameters; one more call is an error.
    const before = gradValues(rec);
    expect(
      values(rec.backward(xs[0]!, gys[0]!))
        .flat()
        .every((v) => v === 0),
    ).toBe(true);
    expectClose(gradValues(rec), before, 0, 'gradParameters after the truncated step');
    expect(() => rec.backward(xs[0]!, gys[0]!)).toThrow(
      /backward: called 6 times but there were only 5 forward/,
    );
  });

  it('non-recurrent modules: Sequencer equals the module applied step by step (its gradients add up)', () => {
    manualSeed(3);
    const lin = new nn.Linear(D, O).double();
    const seq = new nn.Sequencer(lin.clone());
    lin.zeroGradParameters();
    seq.zeroGradParameters();
    for (let k = 0; k < 3; k++) {
      const ys: number[][] = [];
      const gs: number[][] = [];
      xs.forEach((x, t) => {
        ys.push(arr(lin.forward(x) as Tensor));
        gs.push(arr(lin.backward(x, gys[t]!) as Tensor));
      });
      expectClose(values(seq.forward(xs)), ys, TOL, 'outputs');
      expectClose(values(seq.backward(xs, gys)), gs, TOL, 'gradInputs');
      expectClose(gradValues(seq), gradValues(lin), TOL, 'gradParameters');
    }
  });
});

describe('gradients do not depend on the order of batches of different lengths', () => {
  const build = () => {
    manualSeed(6);
    return new nn.Sequential()
      .add(new nn.FastLSTM(3, 5))
      .add(new nn.Recurrent(4, new nn.Linear(5, 4), new nn.Linear(4, 4)))
      .double();
  };
  manualSeed(7);
  const batches = [
    {
      xs: Array.from({ length: 3 }, () => randn([2, 3], f64)),
      gs: Array.from({ length: 3 }, () => randn([2, 4], f64)),
    },
    {
      xs: Array.from({ length: 6 }, () => randn([5, 3], f64)),
      gs: Array.from({ length: 6 }, () => randn([5, 4], f64)),
    },
    {
      xs: Array.from({ length: 1 }, () => randn([1, 3], f64)),
      gs: Array.from({ length: 1 }, () => randn([1, 4], f64)),
    },
  ];
  const alone = batches.map((b) => {
    const seq = new nn.Sequencer(build());
    seq.zeroGradParameters();
    seq.forward(b.xs);
    seq.backward(b.xs, b.gs);
    return gradValues(seq);
  });
  const summed = alone.reduce((s, g) => s.map((row, i) => row.map((v, j) => v + g[i]![j]!)));

  for (const order of [
    [0, 1, 2],
    [2, 1, 0],
    [1, 0, 2],
  ]) {
    it(`order ${order.join(', ')}: Sequencer and step-wise Recursor accumulate the same gradients`, () => {
      const seq = new nn.Sequencer(build());
      seq.zeroGradParameters();
      const rec = new nn.Recursor(build());
      rec.zeroGradParameters();
      for (const k of order) {
        const b = batches[k]!;
        seq.forward(b.xs);
        seq.backward(b.xs, b.gs);
        rec.forget();
        rec.maxBPTTstep(b.xs.length); // as the Sequencer does (the Recurrent's rho is 5)
        stepwise(rec, b.xs, b.gs);
      }
      expectClose(gradValues(seq), summed, 1e-11, 'Sequencer');
      expectClose(gradValues(rec), summed, 1e-11, 'Recursor');
    });
  }
});

describe('the Torch protocol and loss.backward() give the same gradients', () => {
  const T = 4;
  manualSeed(8);
  const xs = Array.from({ length: T }, () => randn([3, 2], f64));
  const R = Array.from({ length: T }, () => randn([3, 4], f64));
  const layers: [string, () => Module][] = [
    ['Recurrent', () => new nn.Recurrent(4, new nn.Linear(2, 4), new nn.Linear(4, 4), new nn.Tanh(), T)],
    [
      'Recurrence',
      () =>
        new nn.Recurrence(
          new nn.Sequential()
            .add(new nn.ParallelTable().add(new nn.Linear(2, 4)).add(new nn.Linear(4, 4)))
            .add(new nn.CAddTable())
            .add(new nn.Sigmoid()),
          4,
          1,
        ),
    ],
  ];
  for (const [name, layer] of layers) {
    it(name, () => {
      const build = () => {
        manualSeed(9);
        return new nn.Sequential().add(layer()).add(new nn.Linear(4, 4)).double();
      };
      // Torch: step-wise backward through a Recursor.
      const a = new nn.Recursor(build());
      const s = stepwise(a, xs, R);
      // Torch: one backward through a Sequencer.
      const b = new nn.Sequencer(build());
      b.forward(xs);
      const gB = b.backward(xs, R);
      // The tape: steps through a Recursor, then loss.backward() with inputs that require grad.
      const c = new nn.Recursor(build());
      const xg = xs.map((x) => x.clone().requiresGrad_());
      const outs = xg.map((x) => c.forward(x) as Tensor);
      outs
        .map((o, t) => sum(mul(o, R[t]!)))
        .reduce((acc, l) => add(acc, l))
        .backward();
      const tape = c.parameters()[0].map((p) => arr(p.grad!));
      expectClose(gradValues(a), tape, TOL, 'Recursor vs tape');
      expectClose(gradValues(b), tape, TOL, 'Sequencer vs tape');
      expectClose(
        s.gxs.flat(),
        xg.map((x) => arr(x.grad!)),
        TOL,
        'gradInputs, Recursor vs tape',
      );
      expectClose(
        values(gB),
        xg.map((x) => arr(x.grad!)),
        TOL,
        'gradInputs, Sequencer vs tape',
      );
    });
  }
});
