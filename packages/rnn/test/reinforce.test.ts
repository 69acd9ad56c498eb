import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  manualSeed,
  memory,
  nn,
  ones,
  randint,
  randn,
  tensor,
  tidy,
  uniform,
  zeros,
  zerosLike,
} from '@webrnn/rnn';
import { f64, jacobian } from './helpers/jacobian.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

const gpu = await webgpuForFile('reinforce');

/**
 * dpnn's REINFORCE modules: gradients against the formulas computed here in float64 from the sampled outputs,
 * sampling statistics for fixed seeds, the tape carrying the REINFORCE gradient into the modules before them,
 * VRClassReward's reward and baseline gradient, a bandit that learns, SpatialGlimpse against a loop reference,
 * bad inputs, and WebGPU against the CPU.
 */

const arr = (t: Tensor) => Array.from(t.dataSync());
const near = (what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!))))
      expect.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
};
const dims = fc.record({ n: fc.integer({ min: 1, max: 4 }), d: fc.integer({ min: 1, max: 4 }) });

describe('REINFORCE gradients equal the formulas', () => {
  it('ReinforceNormal: -r (x - mean) / stdev^2 (number, per-example tensor, full tensor)', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 0, max: 2 }), fc.integer(), ({ n, d }, kind, seed) =>
        tidy(() => {
          manualSeed(seed);
          const mean = randn([n, d], f64);
          const sdT = uniform(kind === 1 ? [d] : [n, d], 0.3, 2, f64);
          const m = new nn.ReinforceNormal(kind === 0 ? 0.7 : sdT);
          const x = m.forward(mean) as Tensor;
          const r = randn([n], f64);
          nn.reinforce(m, r);
          const g = m.backward(mean, randn([n, d], f64)) as Tensor; // gradOutput is ignored
          const [xs, ms, rs, ss] = [arr(x), arr(mean), arr(r), arr(sdT)];
          const want = xs.map((xv, i) => {
            const s = kind === 0 ? 0.7 : kind === 1 ? ss[i % d]! : ss[i]!;
            return (-rs[Math.floor(i / d)]! * (xv - ms[i]!)) / (s * s);
          });
          near('gradInput', arr(g), want);
        }),
      ),
      { numRuns: 20 },
    );
  });

  it('ReinforceNormal with {mean, stdev}: both gradients', () => {
    fc.assert(
      fc.property(dims, fc.integer(), ({ n, d }, seed) =>
        tidy(() => {
          manualSeed(seed);
          const mean = randn([n, d], f64);
          const sd = uniform([n, d], 0.3, 2, f64);
          const m = new nn.ReinforceNormal();
          const x = m.forward([mean, sd]) as Tensor;
          const r = randn([n], f64);
          nn.reinforce(m, r);
          const [gm, gs] = m.backward([mean, sd], zerosLike(x)) as Tensor[];
          const [xs, ms, rs, ss] = [arr(x), arr(mean), arr(r), arr(sd)];
          const rr = (i: number) => rs[Math.floor(i / d)]!;
          near(
            'd mean',
            arr(gm!),
            xs.map((v, i) => (-rr(i) * (v - ms[i]!)) / ss[i]! ** 2),
          );
          const wantS = xs.map((v, i) => (-rr(i) * ((v - ms[i]!) ** 2 - ss[i]! ** 2)) / (ss[i]! ** 3 + 1e-8));
          near('d stdev', arr(gs!), wantS);
        }),
      ),
      { numRuns: 20 },
    );
  });

  it('ReinforceCategorical: -r onehot / (p + 1e-8); ReinforceBernoulli: -r (x - p) / (p (1 - p))', () => {
    fc.assert(
      fc.property(dims, fc.integer(), ({ n, d }, seed) =>
        tidy(() => {
          manualSeed(seed);
          const p = uniform([n, d + 1], 0.05, 1, f64);
          const r = randn([n], f64);
          const cat = new nn.ReinforceCategorical();
          const x = cat.forward(p) as Tensor;
          const xs = arr(x);
          for (let i = 0; i < n; i++) {
            const row = xs.slice(i * (d + 1), (i + 1) * (d + 1));
            expect(row.filter((v) => v === 1).length).toBe(1);
            expect(row.filter((v) => v === 0).length).toBe(d);
          }
          nn.reinforce(cat, r);
          const ps = arr(p);
          const rs = arr(r);
          near(
            'categorical',
            arr(cat.backward(p, zerosLike(x)) as Tensor),
            xs.map((v, i) => (-rs[Math.floor(i / (d + 1))]! * v) / (ps[i]! + 1e-8)),
          );

          const q = uniform([n, d], 0.05, 0.95, f64);
          const ber = new nn.ReinforceBernoulli();
          const b = ber.forward(q) as Tensor;
          const bs = arr(b);
          expect(bs.every((v) => v === 0 || v === 1)).toBe(true);
          nn.reinforce(ber, r);
          const qs = arr(q);
          const want = bs.map((v, i) => (-rs[Math.floor(i / d)]! * (v - qs[i]!)) / (qs[i]! * (1 - qs[i]!)));
          near('bernoulli', arr(ber.backward(q, zerosLike(b)) as Tensor), want);
        }),
      ),
      { numRuns: 20 },
    );
  });

  it('the tape carries the REINFORCE gradient into the modules before (Sequential(Linear, ReinforceNormal))', () => {
    tidy(() => {
      manualSeed(3);
      const lin = new nn.Linear(3, 2).double();
      const m = new nn.Sequential().add(lin).add(new nn.ReinforceNormal(0.5)).add(new nn.HardTanh());
      const input = randn([4, 3], f64);
      const out = m.forward(input) as Tensor;
      const mu = lin.output as Tensor;
      const x = (m.get(1).output as Tensor).dataSync();
      const r = randn([4], f64);
      nn.reinforce(m, r);
      m.zeroGradParameters();
      const gi = m.backward(input, randn(out.shape, f64)) as Tensor;
      const gmu = arr(mu).map((v, i) => (-arr(r)[Math.floor(i / 2)]! * (x[i]! - v)) / 0.25);
      const xin = arr(input);
      const W = arr(lin.parameters()[0][0]!);
      const gW = Array.from({ length: 6 }, (_, k) => {
        const [o, j] = [Math.floor(k / 3), k % 3];
        return [0, 1, 2, 3].reduce((s, b) => s + gmu[b * 2 + o]! * xin[b * 3 + j]!, 0);
      });
      const gX = Array.from({ length: 12 }, (_, k) => {
        const [b, j] = [Math.floor(k / 3), k % 3];
        return [0, 1].reduce((s, o) => s + gmu[b * 2 + o]! * W[o * 3 + j]!, 0);
      });
      near('gradWeight', arr(lin.parameters()[1][0]!), gW);
      near(
        'gradBias',
        arr(lin.parameters()[1][1]!),
        [0, 1].map((o) => [0, 1, 2, 3].reduce((s, b) => s + gmu[b * 2 + o]!, 0)),
      );
      near('gradInput', arr(gi), gX);
    });
  });
});

describe('sampling', () => {
  it('ReinforceNormal samples have the mean and the variance asked for; evaluation gives the mean', () => {
    tidy(() => {
      manualSeed(11);
      const n = 20000;
      const mean = tensor(
        Array.from({ length: n }, () => [1.5, -2]),
        f64,
      );
      const m = new nn.ReinforceNormal(tensor([0.5, 2], f64));
      const xs = arr(m.forward(mean) as Tensor);
      for (const [c, mu, sd] of [
        [0, 1.5, 0.5],
        [1, -2, 2],
      ] as const) {
        const v = xs.filter((_, i) => i % 2 === c);
        const avg = v.reduce((s, a) => s + a, 0) / n;
        const variance = v.reduce((s, a) => s + (a - avg) ** 2, 0) / (n - 1);
        expect(Math.abs(avg - mu)).toBeLessThan((4 * sd) / Math.sqrt(n));
        expect(Math.abs(variance / sd ** 2 - 1)).toBeLessThan(0.05);
      }
      m.evaluate();
      expect(arr(m.forward(mean) as Tensor)).toEqual(arr(mean));
      const s = new nn.ReinforceNormal(1, true).evaluate();
      expect(arr(s.forward(mean) as Tensor)).not.toEqual(arr(mean));
    });
  });

  it('ReinforceCategorical and ReinforceBernoulli frequencies match p (unnormalised rows too)', () => {
    tidy(() => {
      manualSeed(12);
      const n = 20000;
      const p = tensor(Array.from({ length: n }, () => [0.2, 0, 0.5, 0.3].map((v) => v * 2)));
      const xs = arr(new nn.ReinforceCategorical().forward(p) as Tensor);
      [0.2, 0, 0.5, 0.3].forEach((want, k) => {
        const freq = xs.filter((v, i) => i % 4 === k && v === 1).length / n;
        expect(Math.abs(freq - want)).toBeLessThan(4 * Math.sqrt((want * (1 - want)) / n) + 1e-9);
      });
      const q = tensor(Array.from({ length: n }, () => [0.1, 0.75]));
      const bs = arr(new nn.ReinforceBernoulli().forward(q) as Tensor);
      [0.1, 0.75].forEach((want, k) => {
        const freq = bs.filter((v, i) => i % 2 === k && v === 1).length / n;
        expect(Math.abs(freq - want)).toBeLessThan(4 * Math.sqrt((want * (1 - want)) / n));
      });
      // Evaluation: dpnn outputs the probabilities themselves.
      const small = tensor([[0.1, 0.9]]);
      expect(arr(new nn.ReinforceCategorical().evaluate().forward(small) as Tensor)).toEqual(arr(small));
      expect(arr(new nn.ReinforceBernoulli().evaluate().forward(small) as Tensor)).toEqual(arr(small));
    });
  });

  it('the same seed gives the same samples', () => {
    const draw = () => {
      manualSeed(99);
      return arr(new nn.ReinforceNormal(1).forward(zeros([3, 2])) as Tensor);
    };
    expect(draw()).toEqual(draw());
  });
});

describe('VRClassReward', () => {
  it('reward, loss, the reward handed to the modules and the baseline gradient', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer(),
        fc.boolean(),
        (n, c, seed, col) =>
          tidy(() => {
            manualSeed(seed);
            const policy = new nn.Sequential().add(new nn.ReinforceNormal(1));
            const crit = new nn.VRClassReward(policy, 2);
            const pred = randn([n, c], f64);
            const base = randn(col ? [n, 1] : [n], f64);
            const target = randint(0, c, [n]);
            const loss = crit.forward([pred, base], target).itemSync();
            const ps = arr(pred);
            const ts = arr(target);
            const reward = ts.map((t, i): number => {
              const row = ps.slice(i * c, (i + 1) * c);
              return row.indexOf(Math.max(...row)) === t ? 2 : 0;
            });
            near('loss', [loss], [-reward.reduce((s, v) => s + v, 0) / n]);
            const [g0, g1] = crit.backward([pred, base], target) as Tensor[];
            expect(arr(g0!).every((v) => v === 0)).toBe(true);
            expect(g0!.shape).toEqual([n, c]);
            expect(g1!.shape).toEqual(base.shape);
            const bs = arr(base);
            near(
              'baseline gradient (MSE)',
              arr(g1!),
              bs.map((b, i) => (2 * (b - reward[i]!)) / n),
            );
            const handed = (policy.get(0) as nn.Reinforce).reward!;
            near(
              'vrReward',
              arr(handed),
              reward.map((r, i) => (r - bs[i]!) / n),
            );
          }),
      ),
      { numRuns: 20 },
    );
  });

  it('dispose() frees the rewards it keeps between calls (and its baseline criterion)', () => {
    const before = memory().tensors;
    const policy = new nn.ReinforceNormal(1);
    const crit = new nn.VRClassReward(policy, 2);
    tidy(() => {
      const input = [policy.forward(randn([3, 2])) as Tensor, randn([3])];
      crit.forward(input, randint(0, 2, [3]));
      crit.backward(input, randint(0, 2, [3]));
    });
    expect(memory().tensors, 'the reward and the variance-reduced reward are kept').toBe(before + 2 + 1);
    crit.dispose();
    policy.dispose();
    expect(memory().tensors).toBe(before);
  });
});

describe('end to end', () => {
  it('a REINFORCE-trained policy learns a 2-armed bandit (VRClassReward with a learned baseline)', () => {
    manualSeed(7);
    // The policy picks an arm from a constant input; arm 1 pays off. As in the RAM example: the prediction is
    // the sampled one-hot, the baseline a learned constant, and VRClassReward hands out the reward.
    const policy = new nn.Sequential()
      .add(new nn.Linear(1, 2))
      .add(new nn.SoftMax())
      .add(new nn.ReinforceCategorical());
    const baseline = new nn.Sequential().add(new nn.Linear(1, 1));
    const model = new nn.ConcatTable().add(policy).add(baseline);
    const crit = new nn.VRClassReward(model);
    const n = 16;
    const x = ones([n, 1]);
    const target = tensor(Array(n).fill(1), { dtype: 'int32' });
    const rewardAt = (it: number) =>
      tidy(() => {
        const out = model.forward(x) as Tensor[];
        const loss = crit.forward(out, target);
        if (it >= 0) {
          model.zeroGradParameters();
          model.backward(x, crit.backward(out, target));
          model.updateParameters(0.5);
        }
        return -loss.itemSync();
      });
    const avg = (from: number, k: number) => {
      let s = 0;
      for (let i = 0; i < k; i++) s += rewardAt(from + i);
      return s / k;
    };
    const before = avg(-1000, 20) as number; // no updates (it < 0)
    for (let i = 0; i < 150; i++) rewardAt(i);
    const after = avg(1000, 20);
    expect(before).toBeLessThan(0.7);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before + 0.25);
  });
});

describe('SpatialGlimpse', () => {
  /** dpnn's loops: pad, crop at floor(clamp((loc+1)/2 * (padded - patch))), average-pool by 2^d. */
  function reference(
    img: number[],
    [n, c, h, w]: number[],
    loc: number[],
    gh0: number,
    gw0: number,
    depth: number,
  ) {
    const out: number[] = [];
    for (let b = 0; b < n!; b++) {
      const perDepth: number[][] = [];
      for (let d = 0; d < depth; d++) {
        const [gh, gw] = [gh0 * 2 ** d, gw0 * 2 ** d];
        const [ph, pw] = [Math.floor((gh - 1) / 2), Math.floor((gw - 1) / 2)];
        const [mh, mw] = [h! + 2 * ph - gh, w! + 2 * pw - gw];
        const y0 = Math.floor(Math.min(mh, Math.max(0, ((loc[b * 2]! + 1) / 2) * mh)));
        const x0 = Math.floor(Math.min(mw, Math.max(0, ((loc[b * 2 + 1]! + 1) / 2) * mw)));
        const at = (ch: number, i: number, j: number) => {
          const [yy, xx] = [y0 + i - ph, x0 + j - pw];
          return yy < 0 || yy >= h! || xx < 0 || xx >= w! ? 0 : img[((b * c! + ch) * h! + yy) * w! + xx]!;
        };
        const k = 2 ** d;
        const vals: number[] = [];
        for (let ch = 0; ch < c!; ch++)
          for (let i = 0; i < gh0; i++)
            for (let j = 0; j < gw0; j++) {
              let s = 0;
              for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) s += at(ch, i * k + u, j * k + v);
              vals.push(s / (k * k));
            }
        perDepth.push(vals);
      }
      out.push(...perDepth.flat());
    }
    return out;
  }

  it('matches the loop reference, and backward matches central differences', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          c: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 2, max: 9 }),
          w: fc.integer({ min: 2, max: 9 }),
          gh: fc.integer({ min: 1, max: 3 }),
          gw: fc.integer({ min: 1, max: 3 }),
          depth: fc.integer({ min: 1, max: 3 }),
        }),
        fc.integer(),
        ({ n, c, h, w, gh, gw, depth }, seed) =>
          tidy(() => {
            manualSeed(seed);
            const img = randn([n, c, h, w], f64);
            // Locations away from where the crop offset jumps, so that central differences see a constant crop.
            const loc = uniform([n, 2], -1.2, 1.2, f64);
            const m = new nn.SpatialGlimpse([gh, gw], depth);
            const out = m.forward([img, loc]) as Tensor;
            expect(out.shape).toEqual([n, depth * c, gh, gw]);
            near('glimpse', arr(out), reference(arr(img), [n, c, h, w], arr(loc), gh, gw, depth));
            const [, gLoc] = m.backward([img, loc], randn(out.shape, f64)) as Tensor[];
            expect(arr(gLoc!).every((v) => v === 0)).toBe(true);
            jacobian(m, [img, loc], 1);
          }),
      ),
      { numRuns: 20 },
    );
  });

  it('one example without a batch dimension', () => {
    tidy(() => {
      const img = randn([1, 4, 4], f64);
      const m = new nn.SpatialGlimpse(2, 2);
      const one = m.forward([img, tensor([0.3, -0.4], f64)]) as Tensor;
      const batch = m.forward([img.reshape([1, 1, 4, 4]), tensor([[0.3, -0.4]], f64)]) as Tensor;
      expect(one.shape).toEqual([2, 2, 2]);
      expect(arr(one)).toEqual(arr(batch));
    });
  });
});

describe('bad input', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'ReinforceNormal stdev',
      () => new nn.ReinforceNormal(-1),
      /nn.ReinforceNormal: stdev must be a positive number, got -1/,
    ],
    [
      'ReinforceNormal without a stdev',
      () => new nn.ReinforceNormal().forward(zeros([2, 3])),
      /nn.ReinforceNormal\(\): input: is a tensor \[2, 3\], but no stdev was given to the constructor/,
    ],
    [
      'ReinforceNormal stdev shape',
      () => new nn.ReinforceNormal(ones([4])).forward(zeros([2, 3])),
      /stdev: has shape \[4\], expected the mean's \[2, 3\] or one example's \[3\]/,
    ],
    [
      'ReinforceCategorical rank',
      () => new nn.ReinforceCategorical().forward(ones([3])),
      /nn.ReinforceCategorical: input: has shape \[3\], expected a batch of probabilities \[N, K\]/,
    ],
    [
      'ReinforceCategorical negative',
      () => new nn.ReinforceCategorical().forward(tensor([[0.5, -0.1]])),
      /holds a negative \(or NaN\) probability/,
    ],
    [
      'int32 input',
      () => new nn.ReinforceBernoulli().forward(tensor([1], { dtype: 'int32' })),
      /nn.ReinforceBernoulli: input: has dtype int32, expected float32 or float64 \(shape \[1\]\)/,
    ],
    [
      'backward before reinforce',
      () => {
        const m = new nn.ReinforceNormal(1);
        const y = m.forward(zeros([2, 2])) as Tensor;
        return m.backward(zeros([2, 2]), zerosLike(y));
      },
      /backward needs a reward: call reinforce\(module, reward\)/,
    ],
    [
      'reward shape',
      () => nn.reinforce(new nn.ReinforceNormal(1), zeros([2, 1])),
      /nn.ReinforceNormal.reinforce: reward must be a 1-D float tensor \[N\] \(one per example\), got \[2, 1\] float32/,
    ],
    [
      'reward size',
      () => {
        const m = new nn.ReinforceNormal(1);
        const y = m.forward(zeros([2, 2])) as Tensor;
        nn.reinforce(m, zeros([3]));
        return m.backward(zeros([2, 2]), zerosLike(y));
      },
      /the reward has 3 entries but the input has shape \[2, 2\]: expected one reward per example \(the input`s first dimension\)/,
    ],
    [
      'VRClassReward input',
      () =>
        new nn.VRClassReward(new nn.Identity()).forward(zeros([2, 3]), tensor([0, 1], { dtype: 'int32' })),
      /nn.VRClassReward\(scale 1\): input: expected a table \(array\), got a tensor \[2, 3\]/,
    ],
    [
      'VRClassReward baseline',
      () =>
        new nn.VRClassReward(new nn.Identity()).forward(
          [zeros([2, 3]), zeros([3])],
          tensor([0, 1], { dtype: 'int32' }),
        ),
      /input\[1\]: the baseline has shape \[3\], expected \[2\] or \[2, 1\]/,
    ],
    [
      'VRClassReward target',
      () => new nn.VRClassReward(new nn.Identity()).forward([zeros([2, 3]), zeros([2])], zeros([2])),
      /target: expected 2 int32 class indices \[2\], got \[2\] float32/,
    ],
    ['SpatialGlimpse scale', () => new nn.SpatialGlimpse(4, 3, 3), /scale 3 is not supported: only scale 2/],
    [
      'SpatialGlimpse shapes',
      () => new nn.SpatialGlimpse(2).forward([zeros([2, 1, 8, 8]), zeros([2, 3])]),
      /expected \{image \[N, C, H, W\], location \[N, 2\]\} or \{\[C, H, W\], \[2\]\}, got \{\[2, 1, 8, 8\], \[2, 3\]\}/,
    ],
    [
      'SpatialGlimpse small image',
      () => new nn.SpatialGlimpse(2, 1).forward([zeros([1, 1, 1, 8]), zeros([1, 2])]),
      /the image 1x8 is too small for a 2x2 patch/,
    ],
  ];
  it.each(cases)('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('WebGPU equals the CPU', () => {
  it.skipIf(!gpu)(
    'evaluation outputs, the REINFORCE gradients (same seed, same samples) and SpatialGlimpse',
    async () => {
      const run = (device: 'cpu' | 'webgpu') => {
        manualSeed(4);
        const input = randn([5, 3]).to(device);
        const probs = uniform([5, 4], 0.1, 1).to(device);
        const img = randn([2, 2, 9, 7]).to(device);
        const loc = uniform([2, 2], -1, 1).to(device);
        const r = randn([5]).to(device);
        const m = new nn.Sequential().add(new nn.Linear(3, 2)).add(new nn.ReinforceNormal(0.5)).to(device);
        const y = m.forward(input) as Tensor;
        nn.reinforce(m, r);
        const gi = m.backward(input, zerosLike(y)) as Tensor;
        const cat = new nn.ReinforceCategorical();
        const c = cat.forward(probs) as Tensor;
        nn.reinforce(cat, r);
        const gc = cat.backward(probs, zerosLike(c)) as Tensor;
        const evalN = m.evaluate().forward(input) as Tensor;
        const evalC = new nn.ReinforceCategorical().evaluate().forward(probs) as Tensor;
        const g = new nn.SpatialGlimpse(3, 2).forward([img, loc]) as Tensor;
        return { y, gi, gw: m.parameters()[1][0]!, c, gc, evalN, evalC, g };
      };
      const a = run('cpu');
      const b = run('webgpu');
      for (const k of Object.keys(a) as (keyof typeof a)[]) await expectCloseToCpu(k, a[k], b[k], 1e-3);
    },
  );
});
