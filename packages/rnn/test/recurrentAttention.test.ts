import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  manualSeed,
  mul,
  nn,
  noGrad,
  randn,
  sum,
  tensor,
  tidy,
  zeros,
  zerosLike,
} from '@webrnn/rnn';
import { expectClose, f64, numeric } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

const gpu = await webgpuForFile('RecurrentAttention');

/**
 * Element-research's RecurrentAttention: output shapes over nStep steps, and a check of backward against central
 * differences of the REINFORCE surrogate: with the samples held fixed, backward must equal the gradient of
 * sum_s (G_s . h_s) + sum_s (c_s . mean_s), c_s = -r (x_s - mean_s) / stdev^2, reaching the action's and the rnn's
 * parameters through time. Also bad input, and WebGPU against the CPU.
 */

const STD = 0.3;

/** An rnn over {input, action}: with `useAction` false it reads only the input (so the means are deterministic). */
function build(d: number, h: number, nStep: number, useAction: boolean) {
  const inputModule = useAction
    ? new nn.Sequential()
        .add(new nn.ParallelTable().add(new nn.Linear(d, h)).add(new nn.Linear(2, h)))
        .add(new nn.CAddTable())
    : new nn.Sequential().add(new nn.SelectTable(0)).add(new nn.Linear(d, h));
  const rnn = new nn.Recurrent(h, inputModule, new nn.Linear(h, h), new nn.Tanh(), 99);
  const action = new nn.Sequential().add(new nn.Linear(h, 2)).add(new nn.ReinforceNormal(STD));
  return new nn.RecurrentAttention(rnn, action, nStep, [h]);
}

const arr = (t: Tensor) => Array.from(t.dataSync());

describe('RecurrentAttention', () => {
  it('outputs nStep steps ([N, H], or {output, action} with forwardActions)', () => {
    tidy(() => {
      manualSeed(1);
      const ra = build(3, 5, 4, true);
      const out = ra.forward(randn([2, 3])) as Tensor[];
      expect(out.map((o) => o.shape)).toEqual(Array(4).fill([2, 5]));
      expect(ra.actions.map((a) => (a as Tensor).shape)).toEqual(Array(4).fill([2, 2]));
      ra.forwardActions = true;
      const pairs = ra.forward(randn([2, 3])) as Tensor[][];
      expect(pairs.map((p) => p.map((t) => t.shape))).toEqual(
        Array(4).fill([
          [2, 5],
          [2, 2],
        ]),
      );
      expect(ra.describe()).toContain('action : nn.Sequential');
    });
  });

  it('evaluation: the actions are the means, and the same input gives the same output', () => {
    tidy(() => {
      manualSeed(2);
      const ra = build(3, 4, 3, true).evaluate();
      const x = randn([2, 3]);
      const a = (ra.forward(x) as Tensor[]).map(arr);
      const means = ra.actions.map((t) => arr(t as Tensor));
      const b = (ra.forward(x) as Tensor[]).map(arr);
      expect(b).toEqual(a);
      const lin = (ra.action as nn.Sequential).get(0);
      // The action at step 1 is the action Linear applied to the rnn's first output.
      const want = arr(lin.forward(tensor([a[0]!.slice(0, 4), a[0]!.slice(4)])) as Tensor);
      expect(means[1]!.map((v, i) => Math.abs(v - want[i]!) < 1e-6)).toEqual(want.map(() => true));
    });
  });

  it('backward equals central differences of the REINFORCE surrogate (action and rnn parameters, input)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          d: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 3 }),
          nStep: fc.integer({ min: 1, max: 4 }),
        }),
        fc.integer(),
        ({ n, d, h, nStep }, seed) =>
          tidy(() => {
            manualSeed(seed);
            const ra = build(d, h, nStep, false).double();
            ra.forwardActions = true;
            const x = randn([n, d], f64);
            const r = randn([n], f64);
            const G = Array.from({ length: nStep }, () => randn([n, h], f64));
            // Samples (training) and means (evaluation) of the same parameters.
            manualSeed(seed + 1);
            const samples = (ra.forward(x) as Tensor[][]).map((p) => arr(p[1]!));
            const evalOut = () => {
              ra.evaluate();
              const o = ra.forward(x) as Tensor[][];
              ra.training();
              return o;
            };
            const means = evalOut().map((p) => arr(p[1]!));
            const c = samples.map((xs, s) =>
              tensor(
                xs.map((v, i) => (-arr(r)[Math.floor(i / 2)]! * (v - means[s]![i]!)) / STD ** 2),
                f64,
              ).reshape([n, 2]),
            );
            const objective = () =>
              noGrad(() =>
                tidy(() =>
                  evalOut().reduce(
                    (acc, [hs, mu], s) =>
                      acc + sum(mul(hs!, G[s]!)).itemSync() + sum(mul(mu!, c[s]!)).itemSync(),
                    0,
                  ),
                ),
              );
            manualSeed(seed + 1);
            const out = ra.forward(x) as Tensor[][];
            expect(out.map((p) => arr(p[1]!))).toEqual(samples);
            nn.reinforce(ra, r);
            ra.zeroGradParameters();
            const gi = ra.backward(
              x,
              G.map((g, s) => [g, zerosLike(out[s]![1]!)]),
            ) as Tensor;
            const [params, grads] = ra.parameters();
            const analytic = grads.map((g) => Float64Array.from(g.dataSync()));
            const gx = Float64Array.from(gi.dataSync());
            expectClose('gradInput', gx, numeric(x, objective));
            params.forEach((p, k) => expectClose(`parameter ${k}`, analytic[k]!, numeric(p, objective)));
          }),
      ),
      { numRuns: 15 },
    );
  });

  it('a backward through the last output only (SelectTable(-1)) still reaches every step`s action', () => {
    tidy(() => {
      manualSeed(5);
      const nStep = 3;
      const ra = build(2, 3, nStep, true).double();
      const model = new nn.Sequential().add(ra).add(new nn.SelectTable(-1));
      const x = randn([4, 2], f64);
      const r = randn([4], f64);
      const y = model.forward(x) as Tensor;
      nn.reinforce(model, r);
      model.zeroGradParameters();
      model.backward(x, zeros(y.shape, f64));
      // With a zero gradOutput, the action Linear's bias gets exactly the REINFORCE gradients of all steps:
      // sum over steps and examples of -r (x - mean) / stdev^2. The samples are the steps' actions; the means are
      // recomputed from the rnn outputs through the action Linear.
      const lin = (ra.action as nn.Sequential).get(0) as nn.Linear;
      const rs = arr(r);
      let want = [0, 0];
      for (let s = 0; s < nStep; s++) {
        const prev = s === 0 ? zeros([4, 3], f64) : (ra.output as Tensor[])[s - 1]!;
        const mu = arr(noGrad(() => lin.forward(prev)) as Tensor);
        const xs = arr(ra.actions[s] as Tensor);
        want = want.map(
          (w, o) =>
            w +
            [0, 1, 2, 3].reduce((acc, b) => acc - (rs[b]! * (xs[b * 2 + o]! - mu[b * 2 + o]!)) / STD ** 2, 0),
        );
      }
      expectClose('action bias gradient', arr(lin.parameters()[1][1]!), want);
      // and the rnn's parameters get the REINFORCE gradient through the earlier outputs.
      const rnnGrads = ra.rnn.parameters()[1];
      expect(rnnGrads.some((g) => arr(g).some((v) => v !== 0))).toBe(true);
    });
  });

  describe('bad input', () => {
    const rnn = () => new nn.Recurrent(3, new nn.Linear(3, 3), new nn.Linear(3, 3));
    const act = () => new nn.Sequential().add(new nn.Linear(3, 2)).add(new nn.ReinforceNormal(1));
    const cases: [string, () => unknown, RegExp][] = [
      [
        'rnn not recurrent',
        () => new nn.RecurrentAttention(new nn.Linear(2, 2) as never, act(), 2, [3]),
        /nn.RecurrentAttention: rnn must be an AbstractRecurrent \(e.g. nn.Recurrent\), got nn.Linear/,
      ],
      [
        'nStep',
        () => new nn.RecurrentAttention(rnn(), act(), 0, [3]),
        /nStep must be a positive integer, got 0/,
      ],
      [
        'hiddenSize',
        () => new nn.RecurrentAttention(rnn(), act(), 2, 3 as never),
        /hiddenSize must be an array of positive sizes \(e.g. \[256\]; table hidden layers are not supported\), got 3/,
      ],
      [
        'int32 input',
        () => new nn.RecurrentAttention(rnn(), act(), 2, [3]).forward(tensor([[1]], { dtype: 'int32' })),
        /nn.RecurrentAttention: input: has dtype int32, expected float32 or float64/,
      ],
      [
        'gradOutput length',
        () => {
          const ra = build(2, 3, 3, true);
          const out = ra.forward(randn([2, 2])) as Tensor[];
          nn.reinforce(ra, zeros([2]));
          return ra.backward(
            randn([2, 2]),
            out.slice(0, 2).map((o) => zerosLike(o)),
          );
        },
        /nn.RecurrentAttention: backward: gradOutput is \{\[2, 3\], \[2, 3\]\}, expected a table of nStep = 3 gradients/,
      ],
      [
        'action output does not fit the rnn',
        () => {
          const bad = new nn.Sequential().add(new nn.Linear(3, 5)).add(new nn.ReinforceNormal(1));
          const r = new nn.Recurrent(
            3,
            new nn.Sequential()
              .add(new nn.ParallelTable().add(new nn.Linear(2, 3)).add(new nn.Linear(2, 3)))
              .add(new nn.CAddTable()),
            new nn.Linear(3, 3),
          );
          return new nn.RecurrentAttention(r, bad, 2, [3]).forward(randn([2, 2]));
        },
        /nn.RecurrentAttention step 0 \(rnn\)/,
      ],
    ];
    it.each(cases)('%s', (_name, fn, message) => {
      expect(fn).toThrow(message);
    });
  });
});

describe('RecurrentAttention on WebGPU equals the CPU', () => {
  it.skipIf(!gpu)(
    'evaluation outputs, and one training step (same seed, same samples): outputs and every gradient',
    async () => {
      const run = (device: 'cpu' | 'webgpu') => {
        manualSeed(8);
        const ra = build(3, 4, 3, true).to(device);
        const x = randn([2, 3]).to(device);
        const r = randn([2]).to(device);
        const G = Array.from({ length: 3 }, () => randn([2, 4]).to(device));
        const out = ra.forward(x) as Tensor[];
        nn.reinforce(ra, r);
        const gi = ra.backward(x, G) as Tensor;
        const evalOut = ra.evaluate().forward(x) as Activity as Tensor[];
        return { out, gi, grads: ra.parameters()[1], evalOut };
      };
      const a = run('cpu');
      const b = run('webgpu');
      for (let s = 0; s < 3; s++) {
        await expectCloseToCpu(`output ${s}`, a.out[s]!, b.out[s]!);
        await expectCloseToCpu(`eval output ${s}`, a.evalOut[s]!, b.evalOut[s]!);
      }
      await expectCloseToCpu('gradInput', a.gi, b.gi);
      for (let k = 0; k < a.grads.length; k++)
        await expectCloseToCpu(`grad ${k}`, a.grads[k]!, b.grads[k]!, 2e-3);
    },
  );
});
