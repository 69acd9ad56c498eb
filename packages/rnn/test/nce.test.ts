import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, io, manualSeed, memory, nn, randn, tensor, tidy } from '@webrnn/rnn';

/**
 * dpnn's NCEModule and NCECriterion against an independent float64 reference written here from the paper's
 * formulas (Mnih & Teh 2012, eq. 5-7, as dpnn computes them): forward values from the module's weights and the
 * noise it drew (`lastNoise`), and every gradient (input, weight, bias) against central differences of the
 * reference loss with the same noise and Z. Then the modes (normalized evaluation, Z estimation, row noise), the
 * module protocol (type, clone, save/load) and bad inputs.
 */

interface Ref {
  pmt: number[];
  pms: number[][];
  pnt: number[];
  pns: number[][];
}

/** The reference forward: x [n][d], W [v][d], b [v], noise [k] (batch) or [n*k] (per row). */
function refForward(
  x: number[][],
  W: number[][],
  b: number[],
  target: number[],
  noise: Int32Array,
  k: number,
  Z: number,
  probs: ArrayLike<number>,
  batchnoise: boolean,
): Ref {
  const score = (row: number[], w: number) =>
    Math.exp(row.reduce((s, xi, j) => s + xi * W[w]![j]!, b[w]!)) / Z;
  const noiseOf = (i: number, j: number) => noise[batchnoise ? j : i * k + j]!;
  return {
    pmt: x.map((row, i) => score(row, target[i]!)),
    pms: x.map((row, i) => Array.from({ length: k }, (_, j) => score(row, noiseOf(i, j)))),
    pnt: target.map((t) => probs[t]!),
    pns: x.map((_, i) => Array.from({ length: k }, (_, j) => probs[noiseOf(i, j)]!)),
  };
}

/** dpnn's loss (eq. 6 with eps), averaged over the batch. */
function refLoss(r: Ref, k: number): number {
  const eps = 1e-7;
  let total = 0;
  r.pmt.forEach((pmt, i) => {
    total += Math.log(pmt / (pmt + k * r.pnt[i]! + eps));
    r.pms[i]!.forEach((pms, j) => {
      const kpns = k * r.pns[i]![j]!;
      total += Math.log(kpns / (pms + kpns + eps));
    });
  });
  return -total / r.pmt.length;
}

const rows = (t: Tensor): number[][] => {
  const d = Array.from(t.dataSync());
  const [n, m] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => d.slice(i * m, (i + 1) * m));
};

function expectClose(got: ArrayLike<number>, want: readonly number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => {
    if (!(Math.abs(got[i]! - w) <= tol * Math.max(1, Math.abs(w))))
      expect.fail(`${what}[${i}]: got ${got[i]}, expected ${w}`);
  });
}

/** Central differences of f over a copy of `values` (each entry moved by +-h). */
function numericGrad(values: number[], f: (v: number[]) => number, h = 1e-6): number[] {
  return values.map((_, i) => {
    const up = [...values];
    const down = [...values];
    up[i]! += h;
    down[i]! -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  d: fc.integer({ min: 1, max: 4 }),
  v: fc.integer({ min: 2, max: 8 }),
  k: fc.integer({ min: 1, max: 4 }),
  batchnoise: fc.boolean(),
  givenZ: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

describe('nn.NCEModule + nn.NCECriterion against a float64 reference', () => {
  it('forward values, the loss, and the gradients of input, weight and bias (central differences)', () => {
    fc.assert(
      fc.property(caseArb, ({ n, d, v, k, batchnoise, givenZ, seed }) => {
        manualSeed(seed);
        const unigrams = Array.from({ length: v }, (_, i) => ((i * 7 + seed) % 5) + 0.5);
        const m = new nn.NCEModule(d, v, k, unigrams, givenZ ? 0.8 : -1).double();
        m.batchnoise = batchnoise;
        const crit = new nn.NCECriterion();
        tidy(() => {
          const x = randn([n, d], { dtype: 'float64' });
          const targetValues = Array.from({ length: n }, (_, i) => (i * 3 + seed) % v);
          const target = tensor(targetValues, { dtype: 'int32' });
          const out = m.forward([x, target]) as Tensor[];
          const noise = m.lastNoise!;
          expect(noise.length).toBe(batchnoise ? k : n * k);
          // The Z used: the given one, or the estimate dpnn makes from this first batch.
          const W = rows(m.weight);
          const b = Array.from(m.bias!.dataSync());
          const xs = rows(x);
          const raw = refForward(xs, W, b, targetValues, noise, k, 1, m.sampler.probs, batchnoise);
          const estimate = batchnoise ? mean(raw.pms.flat()) * v : mean([...raw.pmt, ...raw.pms.flat()]) * v;
          const Z = givenZ ? 0.8 : estimate;
          const probs = unigrams.map((u) => u / unigrams.reduce((s, w) => s + w, 0));
          const ref = refForward(xs, W, b, targetValues, noise, k, Z, probs, batchnoise);
          expectClose(out[0]!.dataSync(), ref.pmt, 1e-12, 'Pmt');
          expectClose(out[1]!.dataSync(), ref.pms.flat(), 1e-12, 'Pms');
          expectClose(out[2]!.dataSync(), ref.pnt, 1e-12, 'Pnt');
          expectClose(out[3]!.dataSync(), ref.pns.flat(), 1e-12, 'Pns');

          const loss = crit.forward(out, target);
          expectClose(loss.dataSync(), [refLoss(ref, k)], 1e-12, 'loss');
          const gradOut = crit.backward(out, target) as Tensor[];
          // The noise probabilities are constants: zero gradients, as dpnn.
          expect([...gradOut[2]!.dataSync(), ...gradOut[3]!.dataSync()].every((g) => g === 0)).toBe(true);
          m.zeroGradParameters();
          const gradIn = m.backward([x, target], gradOut) as Tensor[];
          expect(gradIn[1]!.dtype).toBe('int32');
          expect([...gradIn[1]!.dataSync()].every((g) => g === 0)).toBe(true);

          const lossOf = (xx: number[][], WW: number[][], bb: number[]) =>
            refLoss(refForward(xx, WW, bb, targetValues, noise, k, Z, probs, batchnoise), k);
          const unflat = (a: number[], cols: number) =>
            Array.from({ length: a.length / cols }, (_, i) => a.slice(i * cols, (i + 1) * cols));
          const tol = 1e-6;
          expectClose(
            gradIn[0]!.dataSync(),
            numericGrad(xs.flat(), (a) => lossOf(unflat(a, d), W, b)),
            tol,
            'gradInput',
          );
          expectClose(
            m.gradWeight.dataSync(),
            numericGrad(W.flat(), (a) => lossOf(xs, unflat(a, d), b)),
            tol,
            'gradWeight',
          );
          expectClose(
            m.gradBias!.dataSync(),
            numericGrad(b, (a) => lossOf(xs, W, a)),
            tol,
            'gradBias',
          );
        });
        m.dispose();
      }),
      { numRuns: 40, seed: 12 },
    );
  });
});

function mean(a: readonly number[]): number {
  return a.reduce((s, x) => s + x, 0) / a.length;
}

describe('nn.NCEModule modes', () => {
  const unigrams = [5, 1, 0, 3, 1];

  it('evaluate() with normalized gives the full (log-)softmax of x W^T + b; without, it samples as in training', () => {
    manualSeed(3);
    using m = new nn.NCEModule(3, 5, 2, unigrams).double();
    tidy(() => {
      const x = randn([4, 3], { dtype: 'float64' });
      const t = tensor([0, 1, 3, 4], { dtype: 'int32' });
      m.evaluate();
      expect((m.forward([x, t]) as Tensor[]).length).toBe(4);
      m.normalized = true;
      const W = rows(m.weight);
      const b = Array.from(m.bias!.dataSync());
      const scores = rows(x).map((row) => W.map((w, c) => row.reduce((s, xi, j) => s + xi * w[j]!, b[c]!)));
      const logSoftmax = scores.map((s) => {
        const lse = Math.log(s.reduce((acc, v) => acc + Math.exp(v), 0));
        return s.map((v) => v - lse);
      });
      const p = m.forward([x, t]) as Tensor;
      expect(p.shape).toEqual([4, 5]);
      expectClose(p.dataSync(), logSoftmax.flat().map(Math.exp), 1e-12, 'softmax');
      m.logsoftmax = true;
      expectClose((m.forward([x, t]) as Tensor).dataSync(), logSoftmax.flat(), 1e-12, 'logsoftmax');
      // Back to training: the NCE table again.
      m.training();
      expect((m.forward([x, t]) as Tensor[]).length).toBe(4);
    });
  });

  it('estimates Z once, from the first batch, and keeps it; a given Z is used as is', async () => {
    manualSeed(4);
    using m = new nn.NCEModule(3, 5, 2, unigrams);
    expect(await m.normalizationConstant()).toBeNull();
    const x = randn([4, 3]);
    const t = tensor([0, 1, 3, 4], { dtype: 'int32' });
    const first = tidy(() => (m.forward([x, t]) as Tensor[])[0]!.dataSync());
    const z = await m.normalizationConstant();
    expect(z).toBeGreaterThan(0);
    expect(m.Z).toBe(z);
    // Biases start at -log(V): exp(score) is near 1/V, so the estimate is near 1.
    expect(z!).toBeGreaterThan(0.3);
    expect(z!).toBeLessThan(3);
    // Another batch does not move it: the same input gives the same P_model(target).
    const again = tidy(() => (m.forward([x, t]) as Tensor[])[0]!.dataSync());
    expect(Array.from(again)).toEqual(Array.from(first));
    using given = new nn.NCEModule(3, 5, 2, unigrams, 2.5);
    expect(await given.normalizationConstant()).toBe(2.5);
    x.dispose();
    t.dispose();
  });

  it('draws the noise from the seeded generator, never a word of unigram 0; the bias starts at -log(V)', () => {
    using m = new nn.NCEModule(2, 5, 50, unigrams);
    expect(Array.from(m.bias!.dataSync()).every((b) => Math.abs(b + Math.log(5)) < 1e-6)).toBe(true);
    const draw = (seed: number) =>
      tidy(() => {
        manualSeed(seed);
        m.forward([randn([3, 2]), tensor([0, 1, 3], { dtype: 'int32' })]);
        return Array.from(m.lastNoise!);
      });
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
    expect(draw(11).includes(2)).toBe(false);
  });

  it('type(), clone() and save/load keep what it computes (same seed, same output)', async () => {
    manualSeed(5);
    using m = new nn.NCEModule(3, 6, 3, [1, 2, 3, 4, 5, 6], 1.5);
    const run = (mod: nn.NCEModule) =>
      tidy(() => {
        manualSeed(77);
        const x = randn([2, 3], { dtype: mod.weight.dtype });
        const out = mod.forward([x, tensor([5, 0], { dtype: 'int32' })]) as Tensor[];
        return out.flatMap((o) => Array.from(o.dataSync()));
      });
    const before = run(m);
    using c = m.clone();
    expect(run(c)).toEqual(before);
    const dir = mkdtempSync(path.join(tmpdir(), 'nce-'));
    try {
      const file = path.join(dir, 'nce.safetensors');
      await io.saveModule(file, m, { Z: m.Z });
      manualSeed(6);
      using loaded = new nn.NCEModule(3, 6, 3, [1, 2, 3, 4, 5, 6], 1.5);
      await io.loadModule(file, loaded);
      expect(run(loaded)).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    m.double();
    expect(m.weight.dtype).toBe('float64');
    const doubled = run(m);
    doubled.forEach((v, i) => expect(Math.abs(v - before[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));
  });

  it('frees what a training step makes, inside a container too (it keeps no tensor besides its parameters)', () => {
    const start = memory().tensors;
    {
      using net = new nn.Sequential().add(new nn.NCEModule(3, 5, 2, unigrams));
      const m = net.modules[0] as nn.NCEModule;
      using crit = new nn.NCECriterion();
      tidy(() => {
        const x = randn([4, 3]);
        const t = tensor([0, 1, 3, 4], { dtype: 'int32' });
        const out = m.forward([x, t]);
        crit.forward(out, t);
        m.backward([x, t], crit.backward(out, t));
      });
      expect(m.Z).toBeGreaterThan(0); // the CPU reads the estimate at once
      net.clearState();
    }
    expect(memory().tensors).toBe(start);
  });
});

describe('nn.AliasMultinomial', () => {
  it("its buckets add up to each outcome's probability exactly (up to rounding)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 100, noNaN: true })), {
          minLength: 1,
          maxLength: 40,
        }),
        (weights) => {
          fc.pre(weights.some((w) => w > 0));
          const a = new nn.AliasMultinomial(weights);
          const n = weights.length;
          const share = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            share[i]! += a.keep[i]! / n;
            share[a.alias[i]!]! += (1 - a.keep[i]!) / n;
          }
          const total = weights.reduce((s, w) => s + w, 0);
          weights.forEach((w, i) => expect(Math.abs(share[i]! - w / total)).toBeLessThan(1e-12));
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('draws follow the distribution (chi-square with a fixed seed), zero-weight outcomes never', () => {
    const weights = Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? 0 : ((i * 13) % 11) + 1));
    const a = new nn.AliasMultinomial(weights);
    manualSeed(2024);
    const draws = 200_000;
    const counts = new Array<number>(weights.length).fill(0);
    for (const i of a.batchDraw(draws)) counts[i]!++;
    const total = weights.reduce((s, w) => s + w, 0);
    let chi2 = 0;
    let df = -1;
    weights.forEach((w, i) => {
      if (w === 0) {
        expect(counts[i], `outcome ${i} has weight 0`).toBe(0);
        return;
      }
      const expected = (draws * w) / total;
      chi2 += (counts[i]! - expected) ** 2 / expected;
      df++;
    });
    // Under the right distribution chi2 has mean df and sd sqrt(2 df): 6 sd above is beyond any honest draw,
    // while a sampler off by 2% in one outcome's share already exceeds it.
    expect(chi2).toBeLessThan(df + 6 * Math.sqrt(2 * df));
  });

  it('refuses weights it cannot sample from', () => {
    expect(() => new nn.AliasMultinomial([])).toThrow(/at least one outcome/);
    expect(() => new nn.AliasMultinomial([1, -1])).toThrow(/weight 1 is -1, expected a finite number >= 0/);
    expect(() => new nn.AliasMultinomial([1, Number.NaN])).toThrow(/weight 1 is NaN/);
    expect(() => new nn.AliasMultinomial([0, 0])).toThrow(/sum to 0, expected a positive sum/);
  });
});

describe('bad input', () => {
  const u = [1, 1, 1, 1];
  it('refuses bad constructor arguments, naming them', () => {
    expect(() => new nn.NCEModule(3, 4, 0, u)).toThrow(/nn.NCEModule: k must be a positive integer, got 0/);
    expect(() => new nn.NCEModule(3, 4, 2, [1, 1, 1])).toThrow(
      /unigrams has 3 entries, expected one per output \(outputSize 4\)/,
    );
    expect(() => new nn.NCEModule(3, 4, 2, [1, 1, -2, 1])).toThrow(/unigrams.*weight 2 is -2/);
    expect(() => new nn.NCEModule(3, 4, 2, u, Number.NaN)).toThrow(/Z must be a number/);
    const t = tensor([[1, 1, 1, 1]]);
    expect(() => new nn.NCEModule(3, 4, 2, t)).toThrow(/unigrams has shape \[1, 4\], expected a 1-D tensor/);
    t.dispose();
  });

  it('refuses bad inputs with the module, what it got and what it expected', () => {
    using m = new nn.NCEModule(3, 4, 2, u);
    tidy(() => {
      const x = randn([2, 3]);
      const t = tensor([0, 3], { dtype: 'int32' });
      const cases: [unknown, RegExp][] = [
        [x, /nn.NCEModule\(3 -> 4, k 2\): input: expected a table/],
        [[x], /expected the table \{input \[N, 3\], target \[N\]\}, got 1 entries/],
        [[randn([2, 5]), t], /input\[0\]: has shape \[2, 5\], expected \[N, 3\]/],
        [[randn([3]), t], /input\[0\]: has shape \[3\], expected \[N, 3\]/],
        [[x, tensor([0, 1])], /input\[1\]: is \[2\] float32, expected int32 targets \[2\]/],
        [[x, tensor([0], { dtype: 'int32' })], /input\[1\]: is \[1\] int32, expected int32 targets \[2\]/],
        [[x, tensor([0, 4], { dtype: 'int32' })], /nn.NCEModule\(3 -> 4, k 2\).*target.*4.*outputSize 4/],
        [[tensor([[1, 2, 3]], { dtype: 'int32' }), t], /input\[0\]: has dtype int32/],
      ];
      for (const [input, msg] of cases) {
        expect(() => m.forward(input as Tensor[])).toThrow(msg);
      }
    });
  });

  it('NCECriterion refuses a table that is not NCEModule output', () => {
    using c = new nn.NCECriterion();
    tidy(() => {
      const p = (s: number[]) => randn(s).abs();
      expect(() => c.forward([p([2]), p([2, 3]), p([2])], 0)).toThrow(/at least 4 tensor/);
      expect(() => c.forward([p([2]), p([2, 3]), p([2]), p([2, 3]), p([2])], 0)).toThrow(/got 5 entries/);
      expect(() => c.forward([p([2]), p([3, 3]), p([2]), p([2, 3])], 0)).toThrow(
        /nn.NCECriterion: input\[1\]: \(Pms\) is \[3, 3\] float32, expected float \[2, 3\]/,
      );
      expect(() => c.forward([p([2]), p([2, 3]), p([2]), p([2, 2])], 0)).toThrow(/input\[3\]: \(Pns\)/);
    });
  });
});
