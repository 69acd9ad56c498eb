import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import {
  type Mat,
  affine,
  block,
  expectClose,
  f64,
  fdInputGrads,
  fdParamGrads,
  flat,
  madd,
  map,
  mat,
  mmul,
  randomMat,
  refPyTorchGRU,
  refTorchGRU,
  rows,
  setParam,
  sig,
  tapeStyle,
  torchStyle,
  zerosM,
  zip,
} from './lstmHelpers.js';

const I = 3;
const H = 4;
const N = 2;

function sequence(T: number, seed: number, n = N) {
  manualSeed(seed);
  const xs = Array.from({ length: T }, () => randn([n, I], f64));
  const rs = Array.from({ length: T }, () => randn([n, H], f64));
  return { xs, rs };
}

function gru(seed = 1, p = 0) {
  manualSeed(seed);
  return new nn.GRU(I, H, undefined, p).double();
}

type GRUModule = InstanceType<typeof nn.GRU>;

function weights(m: GRUModule) {
  return {
    Wg: rows(m.i2g.weight),
    bg: flat(m.i2g.bias!),
    Ug: rows(m.o2g.weight),
    Wh: rows(m.i2h.weight),
    bh: flat(m.i2h.bias!),
    Uh: rows(m.o2h.weight),
  };
}

/**
 * PyTorch's nn.GRU weights (gate blocks r, z, n) into Torch7's layout. The r and z biases merge (Torch's o2g has
 * none); b_hn has no place: PyTorch puts it inside the reset gate (r ⊙ (W_hn h + b_hn)), Torch7 has no such term.
 */
function loadPyTorchGRU(m: GRUModule, Wih: Mat, Whh: Mat, bih: number[], bhh: number[]): void {
  const h = m.outputSize;
  setParam(m.i2g.weight, Wih.slice(0, 2 * h));
  setParam(
    m.i2g.bias!,
    bih.slice(0, 2 * h).map((v, j) => v + bhh[j]!),
  );
  setParam(m.o2g.weight, Whh.slice(0, 2 * h));
  setParam(m.i2h.weight, block(Wih, 2, h));
  setParam(m.i2h.bias!, block(bih, 2, h));
  setParam(m.o2h.weight, block(Whh, 2, h));
}

describe('nn.GRU (Torch7: the reset gate applies before the hidden-to-hidden product)', () => {
  it('matches a plain-number reference of Torch7 GRU over 5 steps', () => {
    const m = gru();
    const { xs } = sequence(5, 11);
    const w = weights(m);
    let h: Mat = zerosM(N, H);
    m.forget();
    for (const x of xs) {
      h = refTorchGRU(rows(x), h, w);
      expectClose(rows(m.forward(x) as Tensor), h, 1e-12);
    }
  });

  it('has Torch layout, initialisation and printing', () => {
    manualSeed(2);
    const m = new nn.GRU(5, 6);
    expect(m.describe()).toBe('nn.GRU(5 -> 6, 0.00)');
    expect(new nn.GRU(5, 6, 3, 0.25).describe()).toBe('nn.GRU(5 -> 6, 0.25)');
    expect(m.rho).toBe(9999);
    expect(m.children()).toEqual([m.i2g, m.o2g, m.i2h, m.o2h]);
    const [params] = m.parameters();
    expect(params).toEqual([m.i2g.weight, m.i2g.bias, m.o2g.weight, m.i2h.weight, m.i2h.bias, m.o2h.weight]);
    expect(params.map((p) => p!.shape)).toEqual([[12, 5], [12], [12, 6], [6, 5], [6], [6, 6]]);
    const within = (t: Tensor, s: number) => flat(t).every((v) => Math.abs(v) <= s);
    expect(within(m.i2g.weight, 1 / Math.sqrt(5)) && within(m.o2g.weight, 1 / Math.sqrt(6))).toBe(true);
  });

  it('gradients: Torch style = tape = central differences (float64, 3 steps)', () => {
    const m = gru(3);
    const { xs, rs } = sequence(3, 12);
    const a = torchStyle(m, xs, rs);
    const b = tapeStyle(m, xs, rs);
    expectClose(a.outs, b.outs, 1e-12);
    expectClose(a.grads, b.grads, 1e-12);
    expectClose(a.gradIns, b.gradIns, 1e-12);
    expectClose(a.grads, fdParamGrads(m, xs, rs), 1e-7, 'parameters vs central differences');
    expectClose(a.gradIns, fdInputGrads(m, xs, rs), 1e-7, 'inputs vs central differences');
  });

  it('one sample [inputSize] steps like a batch of one', () => {
    const m = gru(4);
    const { xs } = sequence(3, 13, 1);
    m.forget();
    const batched = xs.map((x) => rows(m.forward(x) as Tensor));
    m.forget();
    const single = xs.map((x) => rows(m.forward(x.reshape([I])) as Tensor));
    expectClose(single, batched, 1e-14);
  });

  it('starts from userPrevOutput and reports gradPrevOutput', () => {
    const m = gru(5);
    const { xs, rs } = sequence(3, 14);
    manualSeed(15);
    const h0 = randn([N, H], f64);
    m.userPrevOutput = h0;
    const w = weights(m);
    const a = torchStyle(m, xs, rs);
    let h = rows(h0);
    xs.forEach((x, t) => {
      h = refTorchGRU(rows(x), h, w);
      expectClose(a.outs[t], h, 1e-12);
    });
    expect(m.userGradPrevOutput).toBe(m.gradPrevOutput);
    const gh = flat(m.gradPrevOutput!);
    // d loss / d h0 by central differences (h0 is the "input" of a one-step view: perturb and rerun).
    const base = flat(h0);
    const eps = 1e-6;
    const loss = (v: number[]) => {
      m.userPrevOutput = mat([v.slice(0, H), v.slice(H)]);
      m.forget();
      return xs.reduce(
        (s, x, t) => s + flat((m.forward(x) as Tensor).mul(rs[t]!)).reduce((u, y) => u + y, 0),
        0,
      );
    };
    const fd = base.map((_, e) => {
      const at = (d: number) => loss(base.map((v, k) => (k === e ? v + d : v)));
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    expectClose(gh, fd, 1e-7);
    m.userPrevOutput = null;
    expect(m.userPrevOutput).toBeNull();
  });

  it('equals PyTorch GRU exactly where the two definitions coincide, and differs elsewhere', () => {
    const r = randomMat(21);
    const Wih = r.m(3 * H, I, 0.6);
    const bih = r.v(3 * H, 0.5);
    const bhh = [...r.v(2 * H, 0.5), ...new Array(H).fill(0)]; // b_hn = 0
    const xs = Array.from({ length: 4 }, () => r.m(N, I));
    // (a) Any W_hn, first step from h = 0: r ⊙ (W_hn 0) = W_hn (r ⊙ 0).
    const Whh = r.m(3 * H, H, 0.6);
    const m = new nn.GRU(I, H).double();
    loadPyTorchGRU(m, Wih, Whh, bih, bhh);
    m.forget();
    const y1 = rows(m.forward(mat(xs[0]!)) as Tensor);
    expectClose(y1, refPyTorchGRU(xs[0]!, zerosM(N, H), Wih, Whh, bih, bhh), 1e-12);
    // ...but not at the next step, where h != 0 and W_hn is not diagonal.
    const y2 = rows(m.forward(mat(xs[1]!)) as Tensor);
    const p2 = refPyTorchGRU(xs[1]!, y1, Wih, Whh, bih, bhh);
    expect(Math.max(...y2.flat().map((v, i) => Math.abs(v - p2.flat()[i]!)))).toBeGreaterThan(1e-4);
    // (b) A diagonal W_hn: diag(d)(r ⊙ h) = r ⊙ (diag(d) h), so every step agrees.
    const d = r.v(H, 0.8);
    const WhhDiag = [...Whh.slice(0, 2 * H), ...d.map((v, i) => d.map((_, j) => (i === j ? v : 0)))];
    loadPyTorchGRU(m, Wih, WhhDiag, bih, bhh);
    m.forget();
    let h: Mat = zerosM(N, H);
    for (const x of xs) {
      h = refPyTorchGRU(x, h, Wih, WhhDiag, bih, bhh);
      expectClose(rows(m.forward(mat(x)) as Tensor), h, 1e-12);
    }
  });
});

describe('nn.GRU variational dropout (p: Bayesian GRU)', () => {
  type WithMasks = { masks: { x: Tensor; h: Tensor } | null };
  const masksOf = (m: object) => (m as unknown as WithMasks).masks;

  it('uses its masks on the gates and the candidate, one set per sequence, none in evaluation', () => {
    const m = gru(30, 0.5);
    const { xs } = sequence(3, 31);
    const w = weights(m);
    m.forget();
    let h: Mat = zerosM(N, H);
    let first: WithMasks['masks'] = null;
    for (const x of xs) {
      const y = rows(m.forward(x) as Tensor);
      const masks = masksOf(m)!;
      first ??= masks;
      expect(masks).toBe(first);
      expect(masks.x.shape).toEqual([3, N, I]);
      expect(masks.h.shape).toEqual([3, N, H]);
      const mx = [0, 1, 2].map((k) => rows(masks.x.select(0, k)));
      const mh = [0, 1, 2].map((k) => rows(masks.h.select(0, k)));
      const xr = rows(x);
      const pre = (k: number) =>
        madd(
          affine(mmul(xr, mx[k]!), block(w.Wg, k, H), block(w.bg, k, H)),
          affine(mmul(h, mh[k]!), block(w.Ug, k, H)),
        );
      const rg = map(pre(0), sig);
      const z = map(pre(1), sig);
      const n = map(
        madd(affine(mmul(xr, mx[2]!), w.Wh, w.bh), affine(mmul(mmul(rg, h), mh[2]!), w.Uh)),
        Math.tanh,
      );
      h = zip(
        zip(n, z, (nv, zv) => (1 - zv) * nv),
        mmul(z, h),
        (a, b) => a + b,
      );
      expectClose(y, h, 1e-12);
    }
    m.forget();
    m.forward(xs[0]!);
    expect(masksOf(m)).not.toBe(first);
    // Evaluation: the Torch7 formula without masks.
    m.evaluate().forget();
    let hE: Mat = zerosM(N, H);
    for (const x of xs) {
      hE = refTorchGRU(rows(x), hE, w);
      expectClose(rows(m.forward(x) as Tensor), hE, 1e-12);
    }
  });

  it('gradients with dropout match central differences (same masks)', () => {
    const m = gru(32, 0.3);
    const { xs, rs } = sequence(3, 33);
    const reseed = () => manualSeed(7);
    reseed();
    const a = torchStyle(m, xs, rs);
    expectClose(a.grads, fdParamGrads(m, xs, rs, reseed), 1e-7, 'parameters');
    expectClose(a.gradIns, fdInputGrads(m, xs, rs, reseed), 1e-7, 'inputs');
  });
});

describe('GRU input checks', () => {
  const cases: [string, () => void, RegExp][] = [
    [
      'wrong feature size',
      () => new nn.GRU(3, 4).forward(randn([2, 5])),
      /nn\.GRU\(3 -> 4, 0\.00\): input: has shape \[2, 5\], expected \[N, 3\] or \[3\]/,
    ],
    [
      'batch size changing within a sequence',
      () => {
        const m = new nn.GRU(3, 4);
        m.forward(randn([2, 3]));
        m.forward(randn([1, 3]));
      },
      /input: has shape \[1, 3\], but the previous output h has shape \[2, 4\] \(expected \[1, 4\]\)/,
    ],
    [
      'backward before forward',
      () => new nn.GRU(3, 4).backward(randn([2, 3]), randn([2, 4])),
      /nn\.GRU\(3 -> 4, 0\.00\): backward: called before forward/,
    ],
    ['sizes', () => new nn.GRU(3, 1.5), /outputSize must be a positive integer, got 1\.5/],
    ['p out of range', () => new nn.GRU(3, 4, 5, -0.1), /dropout p must satisfy 0 <= p < 1, got -0\.1/],
  ];
  for (const [name, f, re] of cases) it(name, () => expect(f).toThrow(re));
});
