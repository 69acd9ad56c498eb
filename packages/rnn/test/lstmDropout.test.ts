import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn } from '@webrnn/rnn';
import {
  type Mat,
  affine,
  block,
  expectClose,
  fastWeights,
  fdInputGrads,
  fdParamGrads,
  flat,
  lstmFromGates,
  madd,
  mmul,
  randomSequence,
  rows,
  setParam,
  torchStyle,
  zerosM,
} from './lstmHelpers.js';

const I = 3;
const H = 4;
const N = 2;

const sequence = (T: number, seed: number, n = N) => randomSequence(T, seed, n, I, H);

describe('variational dropout (p)', () => {
  type WithMasks = { masks: { x: Tensor; h: Tensor } | null };
  const masksOf = (m: object) => (m as unknown as WithMasks).masks;

  it('FastLSTM: one mask per gate, drawn once per sequence, new after forget(), none in evaluation', () => {
    manualSeed(30);
    const m = new nn.FastLSTM(I, H, undefined, { p: 0.5 }).double();
    const { xs } = sequence(3, 31);
    const w = fastWeights(m);
    m.forget();
    let h: Mat = zerosM(N, H);
    let c: Mat = zerosM(N, H);
    let first: { x: Tensor; h: Tensor } | null = null;
    for (const x of xs) {
      const y = rows(m.forward(x) as Tensor);
      const masks = masksOf(m)!;
      first ??= masks;
      expect(masks).toBe(first);
      expect(masks.x.shape).toEqual([4, N, I]);
      expect(masks.h.shape).toEqual([4, N, H]);
      expect(flat(masks.x).every((v) => v === 0 || v === 2)).toBe(true);
      // Reference: gate k = (x ⊙ mx_k) W_kᵀ + b_k + (h ⊙ mh_k) U_kᵀ.
      const mx = [0, 1, 2, 3].map((k) => rows(masks.x.select(0, k)));
      const mh = [0, 1, 2, 3].map((k) => rows(masks.h.select(0, k)));
      const pre = [0, 1, 2, 3].map((k) =>
        madd(
          affine(mmul(rows(x), mx[k]!), block(w.W, k, H), block(w.b, k, H)),
          affine(mmul(h, mh[k]!), block(w.U, k, H)),
        ),
      );
      const gates = pre[0]!.map((_, n) => pre.flatMap((p) => p[n]!));
      ({ h, c } = lstmFromGates(gates, c));
      expectClose(y, h, 1e-12);
    }
    const old = flat(first!.x);
    m.forget();
    m.forward(xs[0]!);
    expect(masksOf(m)).not.toBe(first);
    expect(flat(masksOf(m)!.x)).not.toEqual(old);
    // Evaluation: no dropout, the same as p = 0 with the same weights.
    const plain = new nn.FastLSTM(I, H).double();
    setParam(plain.i2g.weight, rows(m.i2g.weight));
    setParam(plain.i2g.bias!, flat(m.i2g.bias!));
    setParam(plain.o2g.weight, rows(m.o2g.weight));
    m.evaluate().forget();
    plain.forget();
    expectClose(
      xs.map((x) => rows(m.forward(x) as Tensor)),
      xs.map((x) => rows(plain.forward(x) as Tensor)),
      1e-14,
    );
    expect(masksOf(m)).toBeNull();
  });

  it('a Sequencer draws new masks for each sequence, remembering or not', () => {
    manualSeed(36);
    const m = new nn.FastLSTM(I, H, undefined, { p: 0.5 }).double();
    const seq = new nn.Sequencer(m);
    const { xs } = sequence(2, 37);
    for (const remember of [false, true]) {
      if (remember) seq.remember('both');
      seq.forward(xs);
      const a = masksOf(m);
      seq.forward(xs);
      expect(masksOf(m)).not.toBe(a);
    }
  });

  it("takes Element-research's positional arguments (rho, eps, momentum, affine, p, mono) like the options", () => {
    const { xs } = sequence(3, 38);
    const run = (make: () => nn.FastLSTM) => {
      manualSeed(39);
      const m = make().double();
      const outs = xs.map((x) => rows(m.forward(x) as Tensor));
      const masks = masksOf(m);
      return { outs, p: m.p, mono: m.mono, masks: masks ? flat(masks.x) : null };
    };
    const positional = run(() => new nn.FastLSTM(I, H, 5, null, null, null, 0.3, true));
    const options = run(() => new nn.FastLSTM(I, H, 5, { p: 0.3, mono: true }));
    expect(positional).toEqual(options);
    expect([positional.p, positional.mono]).toEqual([0.3, true]);
    // Dropout is really on: without p the outputs differ.
    expect(run(() => new nn.FastLSTM(I, H, 5)).outs).not.toEqual(positional.outs);
  });

  it('mono draws one mask for the whole batch', () => {
    manualSeed(32);
    const m = new nn.FastLSTM(I, H, undefined, { p: 0.3, mono: true }).double();
    const { xs } = sequence(1, 33);
    m.forward(xs[0]!);
    expect(masksOf(m)!.x.shape).toEqual([4, 1, I]);
  });

  for (const [name, make] of [
    ['FastLSTM', () => new nn.FastLSTM(I, H, undefined, { p: 0.4 })],
    ['LSTM', () => new nn.LSTM(I, H, undefined, true, 0.4)],
  ] as const) {
    it(`${name}: gradients with dropout match central differences (same masks)`, () => {
      manualSeed(34);
      const m = make().double();
      const { xs, rs } = sequence(3, 35);
      const reseed = () => manualSeed(99);
      reseed();
      const a = torchStyle(m, xs, rs);
      expectClose(a.grads, fdParamGrads(m, xs, rs, reseed), 1e-7, 'parameters');
      expectClose(a.gradIns, fdInputGrads(m, xs, rs, reseed), 1e-7, 'inputs');
      // And the masks are really there: another seed gives other outputs.
      manualSeed(100);
      const b = torchStyle(m, xs, rs);
      expect(b.outs).not.toEqual(a.outs);
    });
  }
});
