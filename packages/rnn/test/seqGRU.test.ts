import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  cat,
  manualSeed,
  mul,
  narrow,
  nn,
  noGrad,
  randn,
  select,
  sum,
  tidy,
  transpose,
  zeros,
} from '@webrnn/rnn';
import { close } from './helpers/compare.js';
import { copyParams } from './recurrentHelpers.js';
import { seqSizes } from './helpers/arbitraries.js';
import { f64, jacobian } from './helpers/jacobian.js';

/** nn.SeqGRU against nn.Sequencer(seq.toGRU()) and against Torch7's GRU formula computed in plain numbers. */

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Torch7's GRU over [T, N, D] in plain JavaScript numbers, from SeqGRU's weight (D + H) x 3H and bias. */
function naive(x: Tensor, w: Tensor, b: Tensor, H: number): number[] {
  const [T, N, D] = x.shape as [number, number, number];
  const X = x.dataSync();
  const W = w.dataSync();
  const B = b.dataSync();
  const wAt = (row: number, col: number) => W[row * 3 * H + col]!;
  const out: number[] = [];
  let h = new Array<number>(N * H).fill(0);
  for (let t = 0; t < T; t++) {
    const next: number[] = [];
    for (let n = 0; n < N; n++) {
      const xin = (k: number) => X[(t * N + n) * D + k]!;
      const pre = (col: number, hv: (k: number) => number) => {
        let s = B[col]!;
        for (let k = 0; k < D; k++) s += xin(k) * wAt(k, col);
        for (let k = 0; k < H; k++) s += hv(k) * wAt(D + k, col);
        return s;
      };
      const hp = (k: number) => h[n * H + k]!;
      const r = Array.from({ length: H }, (_, j) => sigmoid(pre(j, hp)));
      for (let j = 0; j < H; j++) {
        const u = sigmoid(pre(H + j, hp));
        const hc = Math.tanh(pre(2 * H + j, (k) => r[k]! * hp(k)));
        next.push((1 - u) * hc + u * hp(j));
      }
    }
    h = next;
    out.push(...next);
  }
  return out;
}

describe('nn.SeqGRU', () => {
  it("equals Torch7's GRU formula step by step", () => {
    manualSeed(3);
    const seq = new nn.SeqGRU(3, 4).double();
    const x = randn([5, 2, 3], f64);
    const y = Array.from((seq.forward(x) as Tensor).dataSync());
    naive(x, seq.weight, seq.bias, 4).forEach((v, i) => expect(y[i]).toBeCloseTo(v, 12));
  });

  it('equals Sequencer(toGRU()) in outputs, gradInputs and gradParameters (batchfirst too)', () => {
    fc.assert(
      fc.property(seqSizes({ batchfirst: fc.boolean() }), ({ T, N, D, H, batchfirst, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const seq = new nn.SeqGRU(D, H).double();
          seq.batchfirst = batchfirst;
          const ref = new nn.Sequencer(seq.toGRU());
          const x = randn(batchfirst ? [N, T, D] : [T, N, D], f64);
          const tn = (t: Tensor) => (batchfirst ? transpose(t, 0, 1).contiguous() : t);
          const y = seq.forward(x) as Tensor;
          close(tn(y), ref.forward(tn(x)) as Tensor, 'output');
          const gy = randn(y.shape, f64);
          const gx = seq.backward(x, gy) as Tensor;
          close(tn(gx), ref.backward(tn(x), tn(gy)) as Tensor, 'gradInput');
          const mine = seq.toGRU().parameters()[1];
          ref.parameters()[1].forEach((g, i) => close(mine[i]!, g, `gradParameter ${i}`));
        });
      }),
      { numRuns: 25 },
    );
  });

  it('remembers across chunks, resets with resetStates, masks zero rows as a restart', () => {
    manualSeed(8);
    const seq = new nn.SeqGRU(2, 3).double().remember('both');
    const whole = new nn.SeqGRU(2, 3).double();
    copyParams(seq, whole);
    const x = randn([5, 2, 2], f64);
    const y1 = seq.forward(narrow(x, 0, 0, 3)) as Tensor;
    const y2 = seq.forward(narrow(x, 0, 3, 2)) as Tensor;
    close(cat([y1, y2], 0), whole.forward(x) as Tensor, 'chunks vs whole');
    seq.resetStates();
    close(seq.forward(narrow(x, 0, 0, 3)) as Tensor, y1, 'after resetStates');
    // A zero row at step 2 of sample 1: zero output there, then the rest as a fresh sequence.
    const mz = new nn.SeqGRU(2, 3).double().maskZero();
    copyParams(seq, mz);
    const xz = x.clone();
    select(select(xz, 0, 2), 0, 1).zero_();
    const y = mz.forward(xz) as Tensor;
    close(select(select(y, 0, 2), 0, 1), zeros([3], f64), 'masked step');
    const rest = whole.forward(narrow(narrow(x, 1, 1, 1), 0, 3, 2)) as Tensor;
    close(narrow(narrow(y, 1, 1, 1), 0, 3, 2), rest, 'after the masked step');
  });

  it('passes Jacobian checks for x, [h0, x], batchfirst and a mask', () => {
    manualSeed(12);
    jacobian(new nn.SeqGRU(2, 3).double(), randn([3, 2, 2], f64), 1);
    jacobian(new nn.SeqGRU(2, 3).double(), [randn([2, 3], f64), randn([3, 2, 2], f64)], 2);
    const bf = new nn.SeqGRU(2, 3).double();
    bf.batchfirst = true;
    jacobian(bf, randn([2, 3, 2], f64), 3);
    const mask = zeros([3, 2], f64);
    select(select(mask, 0, 1), 0, 1).fill_(1);
    jacobian(new nn.SeqGRU(2, 3).double().setZeroMask(mask), randn([3, 2, 2], f64), 4);
  });

  it("resetAfter (PyTorch's form): Jacobians with a mask, b_hn registered, no nn.GRU equivalent", () => {
    manualSeed(13);
    const g = new nn.SeqGRU(2, 3, { resetAfter: true }).double();
    expect(g.parameters()[0].map((p) => p.shape)).toEqual([[5, 9], [9], [3]]);
    expect(String(g)).toBe('nn.SeqGRU(2 -> 3, resetAfter)');
    noGrad(() => g.biasHN!.copy_(randn([3], f64)));
    const mask = zeros([3, 2], f64);
    select(select(mask, 0, 2), 0, 0).fill_(1);
    jacobian(g.setZeroMask(mask), [randn([2, 3], f64), randn([3, 2, 2], f64)], 5);
    expect(() => g.toGRU()).toThrow('the resetAfter (PyTorch) form has no nn.GRU equivalent');
  });

  it('couples an encoder and a decoder Torch-style with the same gradients as one tape', () => {
    manualSeed(22);
    const enc = new nn.SeqGRU(2, 3).double();
    const dec = new nn.SeqGRU(2, 3).double();
    const xe = randn([3, 2, 2], f64);
    const xd = randn([4, 2, 2], f64);
    const gy = randn([4, 2, 3], f64);
    const ye = enc.forward(xe) as Tensor;
    dec.userPrevOutput = select(ye, 0, 2);
    dec.forward(xd);
    dec.backward(xd, gy);
    enc.gradPrevOutput = dec.userGradPrevOutput;
    enc.backward(xe, zeros(ye.shape, f64));
    const torchGrads = [...enc.parameters()[1], ...dec.parameters()[1]].map((g) => g.clone());
    for (const m of [enc, dec]) m.zeroGradParameters();
    dec.userPrevOutput = select(enc.forward(xe) as Tensor, 0, 2);
    sum(mul(dec.forward(xd) as Tensor, gy)).backward();
    [...enc.parameters()[1], ...dec.parameters()[1]].forEach((g, i) =>
      close(g, torchGrads[i]!, `param ${i}`),
    );
  });

  it('has Torch parameter layout and initialisation, and names bad input', () => {
    manualSeed(1);
    const seq = new nn.SeqGRU(30, 20);
    expect([seq.weight.shape, seq.bias.shape]).toEqual([[50, 60], [60]]);
    const b = seq.bias.dataSync();
    expect(Array.from(b.slice(20, 40)).every((v) => v === 1)).toBe(true);
    expect(
      Array.from(b.slice(0, 20))
        .concat(Array.from(b.slice(40)))
        .every((v) => v === 0),
    ).toBe(true);
    expect(String(seq)).toBe('nn.SeqGRU(30 -> 20)');
    expect(() => seq.forward([randn([2, 20]), randn([2, 20]), randn([4, 2, 30])])).toThrow(
      'nn.SeqGRU(30 -> 20): input: expected x or [h0, x], got a table of 3 entries',
    );
    expect(() => seq.forward(randn([4, 2, 3]))).toThrow(
      /has shape \[4, 2, 3\], expected a float \[T, N, 30\]/,
    );
  });
});
