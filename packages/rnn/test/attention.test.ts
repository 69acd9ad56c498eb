import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type Tensor,
  add,
  manualSeed,
  memory,
  mul,
  nn,
  onesLike,
  randint,
  randn,
  sum,
  tensor,
  tidy,
  transpose,
  zerosLike,
} from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { f64, jacobian } from './helpers/jacobian.js';

/**
 * Soft attention (nn.AdditiveAttention, nn.DotAttention with 'dot', 'general' and 'concat' scores): Jacobians in
 * float64, a plain-loop reference for the forward, the masking contract (zero weights, masked keys unseen,
 * all-masked rows zero), single step vs all steps, batchfirst vs seq-first, tape style vs Torch style, errors.
 */

type Kind = 'additive' | 'dot' | 'general' | 'concat';
const KINDS: readonly Kind[] = ['additive', 'dot', 'general', 'concat'];

interface Dims {
  readonly n: number;
  readonly t: number;
  /** Decoder steps; 0 for the single-step form (query [N, Hq]). */
  readonly steps: number;
  readonly hq: number;
  readonly hk: number;
  readonly hidden: number;
}

const dimsArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  t: fc.integer({ min: 1, max: 4 }),
  steps: fc.integer({ min: 0, max: 3 }),
  hq: fc.integer({ min: 1, max: 3 }),
  hk: fc.integer({ min: 1, max: 3 }),
  hidden: fc.integer({ min: 1, max: 3 }),
});

function build(kind: Kind, d: Dims, opts: nn.AttentionOptions = {}): nn.Attention {
  const hq = kind === 'dot' ? d.hk : d.hq;
  const m =
    kind === 'additive'
      ? new nn.AdditiveAttention(hq, d.hk, d.hidden, opts)
      : new nn.DotAttention(hq, d.hk, kind, { ...opts, hiddenSize: d.hidden });
  return m.double();
}

const querySize = (kind: Kind, d: Dims) => (kind === 'dot' ? d.hk : d.hq);

/** Seq-first inputs: query [N, Hq] or [T', N, Hq], keys [T, N, Hk], an int32 mask [T, N] with some zeros. */
function inputs(kind: Kind, d: Dims) {
  const hq = querySize(kind, d);
  const query = d.steps === 0 ? randn([d.n, hq], f64) : randn([d.steps, d.n, hq], f64);
  const keys = randn([d.t, d.n, d.hk], f64);
  const mask = randint(0, 3, [d.t, d.n], { dtype: 'int32' }).gt(0);
  return { query, keys, mask };
}

const data = (t: Tensor) => Array.from(t.dataSync());

// ---- a plain-loop reference ----------------------------------------------------------------------------------

/** One score by the textbook formula, from the module's parameters. */
function refScore(m: nn.Attention, q: number[], k: number[]): number {
  const dotv = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  const rows = (w: Tensor) => {
    const [r, c] = w.shape as [number, number];
    const v = data(w);
    return Array.from({ length: r }, (_, i) => v.slice(i * c, (i + 1) * c));
  };
  if (m instanceof nn.AdditiveAttention) {
    const wq = rows(m.linearQuery.weight);
    const b = data(m.linearQuery.bias!);
    const wk = rows(m.linearKey.weight);
    const v = data(m.linearScore.weight);
    return v.reduce((s, vj, j) => s + vj * Math.tanh(dotv(wq[j]!, q) + dotv(wk[j]!, k) + b[j]!), 0);
  }
  const dm = m as nn.DotAttention;
  if (dm.scoreType === 'dot') return dotv(q, k);
  if (dm.scoreType === 'general') {
    const w = rows(dm.linearQuery!.weight); // [Hk, Hq]
    return w.reduce((s, row, j) => s + dotv(row, q) * k[j]!, 0);
  }
  const w = rows(dm.linearConcat!.weight);
  const v = data(dm.linearScore!.weight);
  return v.reduce((s, vj, j) => s + vj * Math.tanh(dotv(w[j]!, [...q, ...k])), 0);
}

/** Context [N, Hk] and weights [N, T] of one decoder step, by loops; all-masked rows are zeros. */
function refStep(m: nn.Attention, q: Tensor, keys: Tensor, mask: Tensor | null) {
  const [T, N, Hk] = keys.shape as [number, number, number];
  const Hq = q.shape[1]!;
  const qv = data(q);
  const kv = data(keys);
  const mv = mask ? data(mask) : null;
  const ctx: number[] = [];
  const wts: number[] = [];
  for (let n = 0; n < N; n++) {
    const key = (t: number) => kv.slice((t * N + n) * Hk, (t * N + n + 1) * Hk);
    const real = Array.from({ length: T }, (_, t) => !mv || mv[t * N + n] !== 0);
    const s = Array.from({ length: T }, (_, t) => refScore(m, qv.slice(n * Hq, (n + 1) * Hq), key(t)));
    const top = Math.max(...s.filter((_, t) => real[t]));
    const e = s.map((x, t) => (real[t] ? Math.exp(x - top) : 0));
    const z = e.reduce((a, b) => a + b, 0);
    const w = e.map((x) => (z > 0 ? x / z : 0));
    wts.push(...w);
    for (let h = 0; h < Hk; h++) ctx.push(w.reduce((acc, wt, t) => acc + wt * key(t)[h]!, 0));
  }
  return { ctx, wts };
}

const expectNear = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12) => {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
};

// ---- tests -----------------------------------------------------------------------------------------------------

describe('attention Jacobians (float64, central differences)', () => {
  for (const kind of KINDS) {
    it(`${kind}: query, keys and every parameter, with and without mask, seq-first and batchfirst`, () => {
      fc.assert(
        fc.property(dimsArb, fc.boolean(), fc.boolean(), fc.boolean(), (d, withMask, batchfirst, both) => {
          tidy(() => {
            manualSeed(d.n * 100 + d.t * 10 + d.steps);
            const m = build(kind, d, { batchfirst, returnWeights: both });
            const { query, keys, mask } = inputs(kind, d);
            const bf = (x: Tensor) => (batchfirst ? transpose(x, 0, 1).contiguous() : x);
            const q = d.steps === 0 ? query : bf(query);
            const input: Activity = withMask ? [q, bf(keys), bf(mask)] : [q, bf(keys)];
            jacobian(m, input, 7);
          });
        }),
        {
          numRuns: 12,
          seed: 42 + KINDS.indexOf(kind),
          // The size-1 corners always run: one sequence, one encoder step, one feature.
          examples: [
            [{ n: 1, t: 1, steps: 0, hq: 1, hk: 1, hidden: 1 }, true, false, true],
            [{ n: 1, t: 1, steps: 1, hq: 1, hk: 1, hidden: 1 }, false, true, true],
            [{ n: 2, t: 1, steps: 2, hq: 2, hk: 1, hidden: 2 }, true, true, false],
          ],
        },
      );
    });
  }
});

describe('attention forward', () => {
  for (const kind of KINDS) {
    it(`${kind}: equals a plain-loop reference, weights sum to 1 over real steps and are 0 at masked ones`, () => {
      fc.assert(
        fc.property(dimsArb, (d) => {
          tidy(() => {
            manualSeed(d.n + d.t);
            const m = build(kind, d);
            const { query, keys, mask } = inputs(kind, d);
            const [ctx, w] = m.forward([query, keys, mask]) as Tensor[];
            const steps =
              d.steps === 0 ? [query] : Array.from({ length: d.steps }, (_, s) => query.select(0, s));
            const ref = steps.map((q) => refStep(m, q, keys, mask));
            expect(ctx!.shape).toEqual(d.steps === 0 ? [d.n, d.hk] : [d.steps, d.n, d.hk]);
            expect(w!.shape).toEqual(d.steps === 0 ? [d.n, d.t] : [d.steps, d.n, d.t]);
            expectNear(
              'context',
              ctx!.dataSync(),
              ref.flatMap((r) => r.ctx),
            );
            expectNear(
              'weights',
              w!.dataSync(),
              ref.flatMap((r) => r.wts),
            );
            // The contract, checked directly on the module's weights.
            const wv = data(w!);
            const mv = data(mask);
            for (let s = 0; s < steps.length; s++) {
              for (let n = 0; n < d.n; n++) {
                const row = wv.slice((s * d.n + n) * d.t, (s * d.n + n + 1) * d.t);
                const real = row.map((_, t) => mv[t * d.n + n] !== 0);
                row.forEach((x, t) => {
                  if (!real[t]) expect(x).toBe(0);
                });
                const total = row.reduce((a, b) => a + b, 0);
                expect(total).toBeCloseTo(real.some(Boolean) ? 1 : 0, 12);
              }
            }
          });
        }),
        { numRuns: 15, seed: 7 },
      );
    });
  }

  it('without a mask equals an all-ones mask, and a float mask equals an int32 mask', () => {
    for (const kind of KINDS) {
      tidy(() => {
        const d = { n: 3, t: 4, steps: 2, hq: 3, hk: 3, hidden: 2 };
        const m = build(kind, d);
        const { query, keys, mask } = inputs(kind, d);
        const none = m.forward([query, keys]) as Tensor[];
        const ones = m.forward([query, keys, mask.fill_(1)]) as Tensor[];
        close(none[0]!, ones[0]!, `${kind} context`, 0);
        close(none[1]!, ones[1]!, `${kind} weights`, 0);
        const mi = tensor(
          [
            [1, 1, 0],
            [1, 0, 0],
            [0, 1, 0],
            [1, 1, 0],
          ],
          { dtype: 'int32' },
        );
        const a = m.forward([query, keys, mi]) as Tensor[];
        const b = m.forward([query, keys, mi.cast('float32')]) as Tensor[];
        close(a[0]!, b[0]!, `${kind} context, float mask`, 0);
        close(a[1]!, b[1]!, `${kind} weights, float mask`, 0);
      });
    }
  });
});

describe('masking', () => {
  it('changing keys at masked steps changes neither context, weights nor the gradients', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), dimsArb, (kind, d) => {
        tidy(() => {
          const m = build(kind, d);
          const { query, keys, mask } = inputs(kind, d);
          const run = (k: Tensor) => {
            m.zeroGradParameters();
            const out = m.forward([query, k, mask]) as Tensor[];
            const gi = m.backward([query, k, mask], [add(out[0]!, 1), add(out[1]!, 2)]) as Tensor[];
            return { out, gi, grads: m.parameters()[1].map((g) => g.clone()) };
          };
          const a = run(keys);
          // Masked steps of the keys replaced by large garbage.
          const garbage = keys.clone();
          const mv = data(mask);
          for (let t = 0; t < d.t; t++)
            for (let n = 0; n < d.n; n++)
              if (mv[t * d.n + n] === 0)
                garbage
                  .select(0, t)
                  .select(0, n)
                  .fill_(1e3 * (t + n + 1));
          const b = run(garbage);
          close(a.out[0]!, b.out[0]!, 'context', 0);
          close(a.out[1]!, b.out[1]!, 'weights', 0);
          close(a.gi[0]!, b.gi[0]!, 'gradInput query', 0);
          a.grads.forEach((g, i) => close(g, b.grads[i]!, `grad ${i}`, 0));
          // No gradient reaches masked keys, and the mask gets a zero gradInput.
          const gk = data(a.gi[1]!);
          for (let t = 0; t < d.t; t++)
            for (let n = 0; n < d.n; n++)
              if (mv[t * d.n + n] === 0)
                for (let h = 0; h < d.hk; h++) expect(gk[(t * d.n + n) * d.hk + h]).toBe(0);
          expect(a.gi[2]!.shape).toEqual(mask.shape);
          expect(data(a.gi[2]!).every((v) => v === 0)).toBe(true);
        });
      }),
      { numRuns: 20, seed: 3 },
    );
  });

  it('all-masked rows give zero weights, zero context and zero, finite gradients (no NaN)', () => {
    for (const kind of KINDS) {
      tidy(() => {
        const d = { n: 3, t: 3, steps: 2, hq: 2, hk: 2, hidden: 2 };
        const m = build(kind, d);
        const { query, keys } = inputs(kind, d);
        // Sequence 1 is all padding; float mask, so that its gradInput is checked too.
        const mask = tensor(
          [
            [1, 0, 1],
            [1, 0, 0],
            [0, 0, 1],
          ],
          f64,
        );
        const [ctx, w] = m.forward([query, keys, mask]) as Tensor[];
        const gi = m.backward([query, keys, mask], [onesLike(ctx!), onesLike(w!)]) as Tensor[];
        for (const t of [ctx!, w!, ...gi, ...m.parameters()[1]])
          expect(data(t).every(Number.isFinite), kind).toBe(true);
        for (let s = 0; s < 2; s++) {
          expect(data(ctx!.select(0, s).select(0, 1))).toEqual([0, 0]);
          expect(data(w!.select(0, s).select(0, 1))).toEqual([0, 0, 0]);
          expect(data(gi[0]!.select(0, s).select(0, 1))).toEqual([0, 0]);
        }
        expect(data(gi[1]!.select(1, 1)).every((v) => v === 0)).toBe(true);
        expect(data(gi[2]!).every((v) => v === 0)).toBe(true);
        // The other sequences are proper distributions.
        expect(sum(w!.select(1, 0), -1).dataSync()[0]).toBeCloseTo(1, 12);
      });
    }
  });
});

describe('layouts and forms', () => {
  it('the single-step form equals the per-step slices of the multi-step form (outputs and gradients)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), dimsArb, (kind, d0) => {
        tidy(() => {
          const d = { ...d0, steps: Math.max(1, d0.steps) };
          const m = build(kind, d);
          const { query, keys, mask } = inputs(kind, d);
          const [ctx, w] = m.forward([query, keys, mask]) as Tensor[];
          const gc = randn(ctx!.shape, f64);
          const gw = randn(w!.shape, f64);
          m.zeroGradParameters();
          const gAll = m.backward([query, keys, mask], [gc, gw]) as Tensor[];
          const gradsAll = m.parameters()[1].map((g) => g.clone());
          m.zeroGradParameters();
          let gKeys = zerosLike(keys);
          for (let s = 0; s < d.steps; s++) {
            const q = query.select(0, s).contiguous();
            const [c1, w1] = m.forward([q, keys, mask]) as Tensor[];
            close(c1!, ctx!.select(0, s), `context step ${s}`, 1e-14);
            close(w1!, w!.select(0, s), `weights step ${s}`, 1e-14);
            const g = m.backward([q, keys, mask], [gc.select(0, s), gw.select(0, s)]) as Tensor[];
            close(g[0]!, gAll[0]!.select(0, s), `gradInput query step ${s}`, 1e-12);
            gKeys = add(gKeys, g[1]!);
          }
          close(gKeys, gAll[1]!, 'gradInput keys, summed over steps', 1e-12);
          m.parameters()[1].forEach((g, i) => close(g, gradsAll[i]!, `grad ${i}`, 1e-12));
        });
      }),
      { numRuns: 20, seed: 11 },
    );
  });

  it('batchfirst equals seq-first on transposed input (outputs and gradInputs transposed back)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), dimsArb, (kind, d) => {
        tidy(() => {
          manualSeed(4);
          const a = build(kind, d);
          manualSeed(4);
          const b = build(kind, d, { batchfirst: true });
          const { query, keys, mask } = inputs(kind, d);
          const tr = (x: Tensor) => transpose(x, 0, 1).contiguous();
          const qb = d.steps === 0 ? query : tr(query);
          const outA = a.forward([query, keys, mask]) as Tensor[];
          const outB = b.forward([qb, tr(keys), tr(mask)]) as Tensor[];
          const back = (x: Tensor) => (d.steps === 0 ? x : tr(x));
          close(back(outB[0]!), outA[0]!, 'context', 1e-14);
          close(back(outB[1]!), outA[1]!, 'weights', 1e-14);
          const gc = randn(outA[0]!.shape, f64);
          const gw = randn(outA[1]!.shape, f64);
          const gA = a.backward([query, keys, mask], [gc, gw]) as Tensor[];
          const gB = b.backward([qb, tr(keys), tr(mask)], [back(gc), back(gw)]) as Tensor[];
          close(back(gB[0]!), gA[0]!, 'gradInput query', 1e-12);
          close(tr(gB[1]!), gA[1]!, 'gradInput keys', 1e-12);
          a.parameters()[1].forEach((g, i) => close(b.parameters()[1][i]!, g, `grad ${i}`, 1e-12));
        });
      }),
      { numRuns: 20, seed: 5 },
    );
  });

  it('returnWeights=false outputs the context tensor alone', () => {
    for (const kind of KINDS) {
      tidy(() => {
        const d = { n: 2, t: 3, steps: 2, hq: 2, hk: 2, hidden: 3 };
        manualSeed(9);
        const a = build(kind, d);
        manualSeed(9);
        const b = build(kind, d, { returnWeights: false });
        const { query, keys, mask } = inputs(kind, d);
        const [ctx] = a.forward([query, keys, mask]) as Tensor[];
        const only = b.forward([query, keys, mask]);
        expect(Array.isArray(only)).toBe(false);
        close(only as Tensor, ctx!, kind, 0);
      });
    }
  });
});

describe('tape style and Torch style agree', () => {
  it('loss.backward() fills the same gradients as module.backward', () => {
    for (const kind of KINDS) {
      tidy(() => {
        const d = { n: 2, t: 3, steps: 2, hq: 3, hk: 3, hidden: 2 };
        const m = build(kind, d);
        const { query, keys, mask } = inputs(kind, d);
        const rc = randn([d.steps, d.n, d.hk], f64);
        const rw = randn([d.steps, d.n, d.t], f64);
        // Torch style.
        m.zeroGradParameters();
        m.forward([query, keys, mask]);
        const gi = m.backward([query, keys, mask], [rc, rw]) as Tensor[];
        const torchGrads = m.parameters()[1].map((g) => g.clone());
        // Tape style: leaves that require grad, one scalar loss.
        m.zeroGradParameters();
        const q = query.clone().requiresGrad_();
        const k = keys.clone().requiresGrad_();
        const [ctx, w] = m.forward([q, k, mask]) as Tensor[];
        add(sum(mul(ctx!, rc)), sum(mul(w!, rw))).backward();
        close(q.grad!, gi[0]!, `${kind} query.grad`, 1e-12);
        close(k.grad!, gi[1]!, `${kind} keys.grad`, 1e-12);
        m.parameters()[1].forEach((g, i) => close(g, torchGrads[i]!, `${kind} grad ${i}`, 1e-12));
      });
    }
  });
});

describe('parameters and construction', () => {
  it('registers Linear children initialised uniform in +-1/sqrt(fan-in)', () => {
    const add_ = new nn.AdditiveAttention(5, 7, 4);
    const shapes = (m: nn.Module) => m.parameters()[0].map((p) => p.shape);
    expect(shapes(add_)).toEqual([[4, 5], [4], [4, 7], [1, 4]]);
    expect(shapes(new nn.DotAttention(4, 4))).toEqual([]);
    expect(shapes(new nn.DotAttention(5, 7, 'general'))).toEqual([[7, 5]]);
    expect(shapes(new nn.DotAttention(5, 7, 'concat', { hiddenSize: 3 }))).toEqual([
      [3, 12],
      [1, 3],
    ]);
    const bounded = (p: Tensor, fanIn: number) =>
      expect(data(p).every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn))).toBe(true);
    const big = new nn.AdditiveAttention(50, 70, 40);
    bounded(big.linearQuery.weight, 50);
    bounded(big.linearQuery.bias!, 50);
    bounded(big.linearKey.weight, 70);
    bounded(big.linearScore.weight, 40);
    // Not all tiny either: the bound is used, not a smaller one.
    expect(Math.max(...data(big.linearKey.weight).map(Math.abs))).toBeGreaterThan(0.9 / Math.sqrt(70));
    const concat = new nn.DotAttention(30, 20, 'concat', { hiddenSize: 10 });
    bounded(concat.linearConcat!.weight, 50);
    expect(add_.describe()).toBe('nn.AdditiveAttention(query 5, keys 7, hidden 4)');
    expect(new nn.DotAttention(3, 3, 'dot', { batchfirst: true }).describe()).toBe(
      "nn.DotAttention('dot', query 3, keys 3, batchfirst)",
    );
  });

  it('keeps memory flat over training steps', () => {
    for (const kind of KINDS) {
      const d = { n: 2, t: 4, steps: 3, hq: 3, hk: 3, hidden: 2 };
      const m = build(kind, d);
      const run = () =>
        tidy(() => {
          const { query, keys, mask } = inputs(kind, d);
          const out = m.forward([query, keys, mask]) as Tensor[];
          m.backward([query, keys, mask], [onesLike(out[0]!), onesLike(out[1]!)]);
          m.updateParameters(0.01);
        });
      run();
      const before = memory();
      for (let i = 0; i < 3; i++) run();
      expect(memory().tensors, kind).toBe(before.tensors);
      expect(memory().bytes, kind).toBe(before.bytes);
      m.dispose();
    }
  });

  it('clone copies the parameters, sharedClone shares them', () => {
    const m = new nn.AdditiveAttention(2, 3).double();
    const c = m.clone();
    const s = m.sharedClone();
    const [p] = m.parameters();
    c.parameters()[0].forEach((x, i) => {
      expect(x).not.toBe(p[i]);
      close(x, p[i]!, `clone ${i}`, 0);
    });
    s.parameters()[0].forEach((x, i) => expect(x).toBe(p[i]));
  });
});

describe('errors name the module and the shapes', () => {
  const q = () => randn([2, 3]);
  const k = () => randn([4, 2, 3]);
  const cases: readonly [string, () => unknown, string | RegExp][] = [
    [
      'dot with different sizes',
      () => new nn.DotAttention(3, 5),
      "nn.DotAttention: score 'dot' needs querySize == keySize, got querySize 3 and keySize 5; use 'general' or 'concat' for different sizes",
    ],
    [
      'an unknown score',
      () => new nn.DotAttention(3, 3, 'cosine' as nn.LuongScore),
      "nn.DotAttention: unknown score 'cosine', expected 'dot', 'general' or 'concat'",
    ],
    [
      'a bad size',
      () => new nn.AdditiveAttention(0, 3),
      'nn.AdditiveAttention: querySize must be a positive integer, got 0',
    ],
    [
      'a tensor instead of a table',
      () => new nn.DotAttention(3, 3).forward(q()),
      "nn.DotAttention('dot', query 3, keys 3): input: expected a table (array), got a tensor [2, 3]",
    ],
    [
      'a table of one',
      () => new nn.DotAttention(3, 3).forward([q()]),
      "nn.DotAttention('dot', query 3, keys 3): input: expected a table {query, keys} or {query, keys, mask}, got {[2, 3]}",
    ],
    [
      'the wrong query size',
      () => new nn.AdditiveAttention(4, 3, 2).forward([q(), k()]),
      "nn.AdditiveAttention(query 4, keys 3, hidden 2): query: has shape [2, 3], expected [2, 4] or [T', N, 4] with N = 2 (keys are [4, 2, 3])",
    ],
    [
      'mismatched batch sizes',
      () => new nn.DotAttention(3, 3).forward([randn([5, 3]), k()]),
      "nn.DotAttention('dot', query 3, keys 3): query: has shape [5, 3], expected [2, 3] or [T', N, 3] with N = 2 (keys are [4, 2, 3])",
    ],
    [
      'mismatched batch sizes, multi-step',
      () => new nn.DotAttention(3, 3).forward([randn([6, 4, 3]), k()]),
      /query: has shape \[6, 4, 3\], expected \[2, 3\] or \[T', N, 3\] with N = 2/,
    ],
    [
      'keys of rank 2',
      () => new nn.DotAttention(3, 3, 'general').forward([q(), randn([4, 3])]),
      "nn.DotAttention('general', query 3, keys 3): keys: have shape [4, 3], expected [T, N, 3]",
    ],
    [
      'an empty batch of keys',
      () => new nn.DotAttention(3, 3).forward([randn([0, 3]), randn([4, 0, 3])]),
      "nn.DotAttention('dot', query 3, keys 3): keys: have shape [4, 0, 3]: T and N must be >= 1",
    ],
    [
      'no query steps',
      () => new nn.DotAttention(3, 3).forward([randn([0, 2, 3]), k()]),
      "nn.DotAttention('dot', query 3, keys 3): query: has shape [0, 2, 3]: T' must be >= 1",
    ],
    [
      'keys of the wrong size, batchfirst',
      () => new nn.DotAttention(3, 3, 'dot', { batchfirst: true }).forward([q(), randn([2, 4, 5])]),
      "nn.DotAttention('dot', query 3, keys 3, batchfirst): keys: have shape [2, 4, 5], expected [N, T, 3]",
    ],
    [
      'a mask of the wrong shape',
      () => new nn.DotAttention(3, 3).forward([q(), k(), randn([2, 4])]),
      "nn.DotAttention('dot', query 3, keys 3): mask: has shape [2, 4], expected [4, 2] ([T, N] for keys [4, 2, 3])",
    ],
    [
      'int32 keys',
      () => new nn.DotAttention(3, 3).forward([q(), randint(0, 3, [4, 2, 3], { dtype: 'int32' })]),
      "nn.DotAttention('dot', query 3, keys 3): keys: has dtype int32, expected float32 or float64 (shape [4, 2, 3])",
    ],
    [
      'float64 input into a float32 module',
      () => new nn.AdditiveAttention(3, 3).forward([randn([2, 3], f64), randn([4, 2, 3], f64)]),
      'nn.AdditiveAttention(query 3, keys 3, hidden 3): query: has dtype float64 but the parameters are float32; convert one with .type(), .float() or .double()',
    ],
    [
      'query and keys of different dtypes',
      () => new nn.DotAttention(3, 3).forward([q(), randn([4, 2, 3], f64)]),
      "nn.DotAttention('dot', query 3, keys 3): keys: have shape [4, 2, 3] float64, expected the dtype of query [2, 3]",
    ],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => {
      if (typeof message === 'string') expect(run).toThrow(message);
      else expect(run).toThrow(message);
      try {
        run();
      } catch (e) {
        if (typeof message === 'string') expect((e as Error).message).toBe(message);
      }
    });
  }
});
