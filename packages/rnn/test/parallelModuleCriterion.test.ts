import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realIn } from './helpers/arbitraries.js';
import { type Activity, type Tensor, memory, nn, randn, tensor, tidy } from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { f64, numeric, tensorsOf } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * torch/nn's ParallelCriterion and dpnn's ModuleCriterion against independent references: each criterion run on
 * its own (and the modules run by hand), central differences of the loss in float64, Torch's target rules
 * (repeatTarget, a tensor target's rows, castTarget), copies, bad input, WebGPU.
 */
const gpu = await webgpuForFile('ParallelCriterion and ModuleCriterion');

const num = (t: Tensor) => t.dataSync()[0]!;

/** d loss / d each input tensor by central differences, against the criterion's backward. */
function gradcheck(c: nn.Criterion, input: Activity, target: Activity | number): void {
  const analytic = tensorsOf(c.backward(input, target));
  tensorsOf(input).forEach((x, i) => {
    const want = numeric(x, () => tidy(() => num(c.forward(input, target))));
    close(analytic[i]!, tensor(want, { shape: x.shape, dtype: 'float64' }), `gradInput ${i}`, 1e-6);
  });
}

const weightArb = realIn(-3, 3);

describe('nn.ParallelCriterion', () => {
  it('is the weighted sum of its criteria on the input entries, with their weighted gradients', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        weightArb,
        weightArb,
        fc.boolean(),
        (n, c, w0, w1, extra) => {
          tidy(() => {
            const x = randn([n, c], f64).logSoftmax(-1);
            const y = randn([n, 2], f64);
            const t = tensor(
              Array.from({ length: n }, (_, i) => i % c),
              { dtype: 'int32' },
            );
            const u = randn([n, 2], f64);
            const z = randn([3], f64);
            const input = extra ? [x, y, z] : [x, y];
            const pc = new nn.ParallelCriterion()
              .add(new nn.ClassNLLCriterion(), w0)
              .add(new nn.MSECriterion(), w1);
            const nll = new nn.ClassNLLCriterion();
            const mse = new nn.MSECriterion();
            const want = w0 * num(nll.forward(x, t)) + w1 * num(mse.forward(y, u));
            expect(num(pc.forward(input, [t, u]))).toBeCloseTo(want, 12);
            const g = pc.backward(input, [t, u]) as Tensor[];
            expect(g.length).toBe(input.length);
            close(g[0]!, (nll.backward(x, t) as Tensor).mul(w0), 'grad 0');
            close(g[1]!, (mse.backward(y, u) as Tensor).mul(w1), 'grad 1');
            if (extra) expect(Array.from(g[2]!.dataSync())).toEqual([0, 0, 0]);
            pc.dispose();
          });
        },
      ),
      { numRuns: 12 },
    );
  });

  it('repeatTarget gives every criterion the whole target; else a tensor target gives row i to criterion i', () => {
    tidy(() => {
      const a = randn([2, 3], f64);
      const b = randn([2, 3], f64);
      const t = randn([2, 3], f64);
      const rep = new nn.ParallelCriterion(true)
        .add(new nn.MSECriterion())
        .add(new nn.MSECriterion(false), 0.5);
      const mse = new nn.MSECriterion();
      const sumMse = new nn.MSECriterion(false);
      expect(num(rep.forward([a, b], t))).toBeCloseTo(
        num(mse.forward(a, t)) + 0.5 * num(sumMse.forward(b, t)),
        12,
      );
      gradcheck(rep, [a, b], t);
      // Lua's target[i] on a tensor is its row i: a target [2, 3] for two criteria on [3] inputs.
      const rows = new nn.ParallelCriterion().add(new nn.MSECriterion()).add(new nn.MSECriterion(), 2);
      const [r0, r1] = [a.select(0, 0), a.select(0, 1)];
      const want = num(mse.forward(r0, t.select(0, 0))) + 2 * num(mse.forward(r1, t.select(0, 1)));
      expect(num(rows.forward([r0, r1], t))).toBeCloseTo(want, 12);
    });
  });

  it('central differences agree with its backward on nested criteria (a ParallelCriterion inside)', () => {
    tidy(() => {
      const inner = new nn.ParallelCriterion(true)
        .add(new nn.MSECriterion(), -1.5)
        .add(new nn.MSECriterion(false));
      const pc = new nn.ParallelCriterion().add(new nn.ClassNLLCriterion(), 0.75).add(inner, 2);
      const x = randn([3, 4], f64).logSoftmax(-1);
      const y = [randn([3, 2], f64), randn([3, 2], f64)];
      const target = [tensor([1, 0, 3], { dtype: 'int32' }), randn([3, 2], f64)];
      gradcheck(pc, [x, y], target);
      expect(pc.describe()).toBe(
        'nn.ParallelCriterion(0.75 * nn.ClassNLLCriterion + 2 * nn.ParallelCriterion(repeatTarget: -1.5 * nn.MSECriterion + 1 * nn.MSECriterion))',
      );
    });
  });

  it("runs each criterion's own backward: VRClassReward inside hands out its reward and trains its baseline", () => {
    tidy(() => {
      const policy = new nn.ReinforceNormal(0.5);
      policy.forward(randn([3, 4]));
      const pc = new nn.ParallelCriterion(true)
        .add(new nn.ClassNLLCriterion())
        .add(new nn.VRClassReward(policy, 2), 0.5);
      const logp = randn([3, 4], f64).logSoftmax(-1);
      const baseline = randn([3], f64);
      const t = tensor([0, 1, 2], { dtype: 'int32' });
      const input = [logp, [logp, baseline]];
      pc.forward(input, t);
      const g = pc.backward(input, t) as [Tensor, [Tensor, Tensor]];
      // The reference, by hand: reward 2 where argmax hits the target; REINFORCE gets (reward - baseline) / N,
      // the baseline 0.5 times MSE's gradient towards the reward.
      const hits = Array.from(logp.argmax(1).dataSync()).map((c, i) => (c === i ? 2 : 0));
      const b = Array.from(baseline.dataSync());
      const vr = hits.map((r, i) => (r - b[i]!) / 3);
      close(policy.reward!, tensor(vr, { dtype: 'float64' }), 'reward handed to the policy', 1e-12);
      const gb = b.map((v, i) => (0.5 * 2 * (v - hits[i]!)) / 3);
      close(g[1][1], tensor(gb, { dtype: 'float64' }), 'baseline gradient', 1e-12);
      expect(Array.from(g[1][0].dataSync()).every((v) => v === 0)).toBe(true);
      close(g[0], new nn.ClassNLLCriterion().backward(logp, t) as Tensor, 'nll gradient');
      pc.dispose();
      policy.reward?.dispose();
    });
  });

  it('clone() copies its criteria and weights; double() converts the criteria it holds', () => {
    const before = memory().tensors;
    tidy(() => {
      const w = tensor([1, 2, 0.5]);
      const pc = new nn.ParallelCriterion().add(new nn.ClassNLLCriterion(w), 0.5).add(new nn.MSECriterion());
      const copy = pc.clone();
      expect(copy.criterions[0]).not.toBe(pc.criterions[0]);
      copy.weights[0] = 4;
      expect(pc.weights).toEqual([0.5, 1]);
      pc.double();
      expect((pc.criterions[0] as nn.ClassNLLCriterion).weights!.dtype).toBe('float64');
      expect((copy.criterions[0] as nn.ClassNLLCriterion).weights!.dtype).toBe('float32');
      copy.dispose();
      pc.dispose();
    });
    expect(memory().tensors).toBe(before);
  });

  it('refuses bad construction and input, naming what it got and expected', () => {
    const pc = new nn.ParallelCriterion().add(new nn.MSECriterion()).add(new nn.MSECriterion());
    const x = randn([2]);
    expect(() => new nn.ParallelCriterion().forward([x], x)).toThrow(
      'nn.ParallelCriterion(): criterions: none were added (add(criterion, weight) first)',
    );
    expect(() => pc.forward(x, x)).toThrow(/input: expected a table \(array\), got a tensor \[2\]/);
    expect(() => pc.forward([x], [x, x])).toThrow(
      'input: has 1 entries {[2]}, expected 2 or more (one per criterion)',
    );
    expect(() => pc.forward([x, x], [x])).toThrow(
      'target: has 1 entries, expected 2 or more (one per criterion)',
    );
    expect(() => pc.forward([x, x], randn([1, 2]))).toThrow(
      'target: has shape [1, 2], expected 2 or more rows',
    );
    expect(() => pc.forward([x, x], 3)).toThrow('target: is the number 3, expected a table of 2 targets');
    expect(() => pc.forward([x, x], [x, randn([3])])).toThrow(/criterion 1 \(nn\.MSECriterion\): .*\[3\]/);
    expect(() => pc.add({} as nn.Criterion)).toThrow('nn.ParallelCriterion.add: expected a criterion');
    expect(() => pc.add(new nn.MSECriterion(), Number.NaN)).toThrow(
      'weight must be a finite number, got NaN',
    );
    expect(() => new nn.ParallelCriterion(1 as unknown as boolean)).toThrow(
      'repeatTarget must be a boolean, got 1',
    );
  });
});

describe('nn.ModuleCriterion', () => {
  it('is criterion(inputModule(x), targetModule(t)); its backward goes through the input module', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (n, c) => {
        tidy(() => {
          const x = randn([n, c], f64);
          const t = randn([n, c], f64);
          const mc = new nn.ModuleCriterion(
            new nn.MSECriterion(),
            new nn.Tanh(),
            new nn.MulConstant(0.5),
          ).double();
          const ref = new nn.MSECriterion();
          const want = num(ref.forward(x.tanh(), t.mul(0.5)));
          expect(num(mc.forward(x, t))).toBeCloseTo(want, 12);
          // Torch's fields: the transformed input and target of the last forward.
          close(mc.input as Tensor, x.tanh(), 'input');
          close(mc.target as Tensor, t.mul(0.5), 'target');
          gradcheck(mc, x, t);
          mc.dispose();
        });
      }),
      { numRuns: 10 },
    );
  });

  it("accumulates the input module's parameter gradients as that module's backward does", () => {
    tidy(() => {
      const lin = new nn.Linear(3, 4).double();
      const mc = new nn.ModuleCriterion(
        new nn.ClassNLLCriterion(),
        new nn.Sequential().add(lin).add(new nn.LogSoftMax()),
      );
      const x = randn([5, 3], f64);
      const t = tensor([0, 1, 2, 3, 1], { dtype: 'int32' });
      mc.forward(x, t);
      const g = mc.backward(x, t) as Tensor;
      const gw = lin.weight.grad!.clone();
      const want = numeric(lin.weight, () => tidy(() => num(mc.forward(x, t))));
      close(gw, tensor(want, { shape: lin.weight.shape, dtype: 'float64' }), 'weight grad', 1e-6);
      close(
        g,
        tensor(
          numeric(x, () => tidy(() => num(mc.forward(x, t)))),
          { shape: [5, 3], dtype: 'float64' },
        ),
        'gradInput',
        1e-6,
      );
      expect(mc.inputModule!.gradInput).toBe(g);
      mc.dispose();
    });
  });

  it('castTarget false keeps the target module in its type; clone() copies the modules', () => {
    const toIdx = new nn.MulConstant(1);
    const mc = new nn.ModuleCriterion(new nn.MSECriterion(), new nn.Tanh(), toIdx, false);
    const lin = new nn.Linear(2, 2);
    const cast = new nn.ModuleCriterion(new nn.MSECriterion(), null, new nn.Sequential().add(lin));
    cast.double();
    expect(lin.weight.dtype).toBe('float64');
    const keepT = new nn.ModuleCriterion(
      new nn.MSECriterion(),
      null,
      new nn.Sequential().add(new nn.Linear(2, 2)),
      false,
    );
    keepT.double();
    expect((keepT.targetModule!.children()[0] as nn.Linear).weight.dtype).toBe('float32');
    const copy = mc.clone();
    expect(copy.inputModule).not.toBe(mc.inputModule);
    expect(copy.targetModule).not.toBe(mc.targetModule);
    expect(copy.castTarget).toBe(false);
    for (const c of [mc, cast, keepT, copy]) c.dispose();
    expect(lin.weight.isDisposed).toBe(true); // its modules are its parts
  });

  it('refuses bad construction, a number through a target module, and backward before forward', () => {
    expect(() => new nn.ModuleCriterion({} as nn.Criterion)).toThrow(
      'nn.ModuleCriterion: criterion must be a criterion',
    );
    expect(() => new nn.ModuleCriterion(new nn.MSECriterion(), {} as nn.Module)).toThrow(
      'inputModule must be a module or null',
    );
    expect(() => new nn.ModuleCriterion(new nn.MSECriterion(), null, null, 0 as unknown as boolean)).toThrow(
      'castTarget must be a boolean, got 0',
    );
    const mc = new nn.ModuleCriterion(new nn.ClassNLLCriterion(), null, new nn.Identity());
    expect(() => mc.forward(randn([2, 3]).logSoftmax(-1), 1)).toThrow(
      'target: is the number 1: the target module needs a tensor or a table',
    );
    const fresh = new nn.ModuleCriterion(new nn.MSECriterion(), new nn.Tanh());
    expect(() => fresh.backward(randn([2]), randn([2]))).toThrow(/backward: called before forward/);
  });
});

describe.skipIf(!gpu)('on WebGPU', () => {
  it('both criteria give the CPU losses and gradients', async () => {
    const make = () => [
      new nn.ParallelCriterion().add(new nn.ClassNLLCriterion(), 0.5).add(new nn.MSECriterion(), -2),
      new nn.ModuleCriterion(new nn.MSECriterion(), new nn.Tanh(), new nn.MulConstant(0.5)),
    ];
    const x = randn([4, 3]).logSoftmax(-1);
    const y = randn([4, 2]);
    const t = tensor([0, 2, 1, 1], { dtype: 'int32' });
    const u = randn([4, 2]);
    const argsOf = (dev: 'cpu' | 'webgpu') => {
      const [xd, yd, td, ud] = [x, y, t, u].map((a) => a.to(dev));
      return [
        [
          [xd!, yd!],
          [td!, ud!],
        ],
        [yd!, ud!],
      ] as const;
    };
    const cpu = make();
    const gpuCrit = make().map((c) => c.to('webgpu'));
    const [ca, ga] = [argsOf('cpu'), argsOf('webgpu')];
    for (let k = 0; k < 2; k++) {
      const [ci, ct] = ca[k]!;
      const [gi, gt] = ga[k]!;
      await expectCloseToCpu(`loss ${k}`, cpu[k]!.forward(ci, ct), gpuCrit[k]!.forward(gi, gt), 1e-4);
      const cg = tensorsOf(cpu[k]!.backward(ci, ct));
      const gg = tensorsOf(gpuCrit[k]!.backward(gi, gt));
      for (const [i, g] of gg.entries()) await expectCloseToCpu(`grad ${k}.${i}`, cg[i]!, g, 1e-4);
    }
  });
});
