import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  cat,
  manualSeed,
  mul,
  narrow,
  nn,
  rand,
  randint,
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

/**
 * nn.SeqLSTM against nn.Sequencer(seq.toFastLSTM()) (the same LSTM one step at a time, in FastLSTM's layout), as
 * Element-research's tests do, plus Jacobian checks of every input form, masking and the coupling hooks.
 */

/** The gradients of a SeqLSTM in FastLSTM's layout (toFastLSTM copies them too). */
function fastGrads(seq: nn.SeqLSTM): Tensor[] {
  return seq
    .toFastLSTM()
    .parameters()[1]
    .map((g) => g);
}

describe('nn.SeqLSTM', () => {
  it('equals Sequencer(toFastLSTM()) in outputs, gradInputs and gradParameters (batchfirst too)', () => {
    fc.assert(
      fc.property(seqSizes({ batchfirst: fc.boolean() }), ({ T, N, D, H, batchfirst, seed }) => {
        tidy(() => {
          manualSeed(seed);
          const seq = new nn.SeqLSTM(D, H).double();
          seq.batchfirst = batchfirst;
          const ref = new nn.Sequencer(seq.toFastLSTM());
          const x = randn(batchfirst ? [N, T, D] : [T, N, D], f64);
          const xt = batchfirst ? transpose(x, 0, 1).contiguous() : x;
          const y = seq.forward(x) as Tensor;
          const yr = ref.forward(xt) as Tensor;
          close(batchfirst ? transpose(y, 0, 1) : y, yr, 'output');
          const gy = randn(y.shape, f64);
          const gx = seq.backward(x, gy) as Tensor;
          const gxr = ref.backward(xt, batchfirst ? transpose(gy, 0, 1).contiguous() : gy) as Tensor;
          close(batchfirst ? transpose(gx, 0, 1) : gx, gxr, 'gradInput');
          const mine = fastGrads(seq);
          ref.parameters()[1].forEach((g, i) => close(mine[i]!, g, `gradParameter ${i}`));
        });
      }),
      { numRuns: 25 },
    );
  });

  it('follows changes of T and N between forwards', () => {
    manualSeed(4);
    const seq = new nn.SeqLSTM(3, 2).double();
    const ref = new nn.Sequencer(seq.toFastLSTM());
    for (const [T, N] of [
      [4, 2],
      [1, 3],
      [6, 1],
    ] as const) {
      const x = randn([T, N, 3], f64);
      close(seq.forward(x) as Tensor, ref.forward(x) as Tensor, `T=${T} N=${N}`);
    }
  });

  it('remembers states between sequences in training and evaluation: chunks equal the whole', () => {
    for (const mode of ['train', 'eval'] as const) {
      manualSeed(9);
      const seq = new nn.SeqLSTM(2, 3).double();
      const whole = new nn.SeqLSTM(2, 3).double();
      copyParams(seq, whole);
      if (mode === 'eval') {
        seq.evaluate();
        whole.evaluate();
      }
      seq.remember('both');
      const x = randn([6, 2, 2], f64);
      const yWhole = whole.forward(x) as Tensor;
      const y1 = seq.forward(narrow(x, 0, 0, 2)) as Tensor;
      const y2 = seq.forward(narrow(x, 0, 2, 4)) as Tensor;
      close(cat([y1, y2], 0), yWhole, `${mode}: chunks vs whole`);
      // forget() / resetStates() start again from zeros.
      seq.resetStates();
      close(seq.forward(narrow(x, 0, 0, 2)) as Tensor, y1, `${mode}: after resetStates`);
    }
  });

  it("does not remember with 'neither', and forgets on a change of mode", () => {
    manualSeed(2);
    const seq = new nn.SeqLSTM(2, 2).double();
    const x = randn([3, 1, 2], f64);
    const y = seq.forward(x) as Tensor;
    close(seq.forward(x) as Tensor, y, 'neither');
    seq.remember('train');
    seq.forward(x);
    expect(Array.from((seq.forward(x) as Tensor).dataSync())).not.toEqual(Array.from(y.dataSync()));
    seq.evaluate(); // forgets, and 'train' does not remember in evaluation
    close(seq.forward(x) as Tensor, y, 'evaluation after training');
    expect(() => {
      seq.remember('both').forward(x);
      seq.forward(randn([3, 2, 2], f64));
    }).toThrow(/batch size changed from 1 to 2 while remembering/);
  });

  it('passes Jacobian checks for x, [h0, x], [c0, h0, x], the LSTMP, batchfirst and a mask', () => {
    manualSeed(11);
    const [T, N, D, H] = [3, 2, 2, 3];
    jacobian(new nn.SeqLSTM(D, H).double(), randn([T, N, D], f64), 1);
    jacobian(new nn.SeqLSTM(D, H).double(), [randn([N, H], f64), randn([T, N, D], f64)], 2);
    jacobian(
      new nn.SeqLSTM(D, H).double(),
      [randn([N, H], f64), randn([N, H], f64), randn([T, N, D], f64)],
      3,
    );
    jacobian(
      new nn.SeqLSTM(D, H, 2).double(),
      [randn([N, H], f64), randn([N, 2], f64), randn([T, N, D], f64)],
      4,
    );
    const bf = new nn.SeqLSTM(D, H).double();
    bf.batchfirst = true;
    jacobian(bf, randn([N, T, D], f64), 5);
    // Masked by an explicit mask: a zero row's mask is not differentiable (central differences would unmask it).
    const mask = zeros([T, N], f64);
    select(select(mask, 0, 1), 0, 0).fill_(1);
    const mz = new nn.SeqLSTM(D, H).double().setZeroMask(mask);
    const x = randn([T, N, D], f64);
    jacobian(mz, x, 6);
  });

  it('maskzero: zero rows give zero outputs and restart the state, like separate sequences', () => {
    fc.assert(
      fc.property(fc.nat(1000), (seed) => {
        tidy(() => {
          manualSeed(seed);
          const [T, N, D, H] = [6, 3, 2, 3];
          const seq = new nn.SeqLSTM(D, H).double().maskZero();
          const x = randn([T, N, D], f64);
          const zero = rand([T, N]).dataSync();
          for (let t = 0; t < T; t++)
            for (let n = 0; n < N; n++) if (zero[t * N + n]! < 0.2) select(select(x, 0, t), 0, n).zero_();
          const y = seq.forward(x) as Tensor;
          const plain = new nn.SeqLSTM(D, H).double();
          copyParams(seq, plain);
          for (let n = 0; n < N; n++) {
            let start = 0;
            for (let t = 0; t <= T; t++) {
              const masked = t < T && zero[t * N + n]! < 0.2;
              if (t === T || masked) {
                if (t > start) {
                  const part = narrow(narrow(x, 1, n, 1), 0, start, t - start);
                  close(
                    narrow(narrow(y, 1, n, 1), 0, start, t - start),
                    plain.forward(part) as Tensor,
                    `n=${n}`,
                  );
                }
                if (masked) close(select(select(y, 0, t), 0, n), zeros([H], f64), `masked t=${t} n=${n}`);
                start = t + 1;
              }
            }
          }
        });
      }),
      { numRuns: 20 },
    );
  });

  it('setZeroMask masks given steps like zero rows', () => {
    manualSeed(5);
    const [T, N, D, H] = [4, 2, 3, 2];
    const a = new nn.SeqLSTM(D, H).double();
    const b = new nn.SeqLSTM(D, H).double().maskZero();
    copyParams(a, b);
    const x = randn([T, N, D], f64);
    const mask = zeros([T, N], f64);
    select(select(mask, 0, 1), 0, 1).fill_(1);
    select(select(mask, 0, 3), 0, 0).fill_(1);
    a.setZeroMask(mask);
    const xz = x.clone();
    select(select(xz, 0, 1), 0, 1).zero_();
    select(select(xz, 0, 3), 0, 0).zero_();
    close(a.forward(x) as Tensor, b.forward(xz) as Tensor, 'explicit vs zero rows');
    expect(() => a.forward(randn([3, N, D], f64))).toThrow(/zeroMask: has shape \[4, 2\], expected \[3, 2\]/);
  });

  it('couples an encoder and a decoder Torch-style with the same gradients as one tape', () => {
    manualSeed(21);
    const [T, N, D, H] = [3, 2, 2, 3];
    const enc = new nn.SeqLSTM(D, H).double();
    const dec = new nn.SeqLSTM(D, H).double();
    const xe = randn([T, N, D], f64);
    const xd = randn([4, N, D], f64);
    const gy = randn([4, N, H], f64);
    // Torch style.
    const ye = enc.forward(xe) as Tensor;
    dec.userPrevOutput = select(ye, 0, T - 1);
    dec.userPrevCell = select(enc.cell!, 0, T - 1);
    dec.forward(xd);
    dec.backward(xd, gy);
    enc.gradPrevOutput = dec.userGradPrevOutput;
    enc.userNextGradCell = dec.userGradPrevCell;
    enc.backward(xe, zeros(ye.shape, f64));
    const torchGrads = [...enc.parameters()[1], ...dec.parameters()[1]].map((g) => g.clone());
    // Tape style: one graph, one backward.
    for (const m of [enc, dec]) m.zeroGradParameters();
    const ye2 = enc.forward(xe) as Tensor;
    dec.userPrevOutput = select(ye2, 0, T - 1);
    dec.userPrevCell = select(enc.cell!, 0, T - 1);
    sum(mul(dec.forward(xd) as Tensor, gy)).backward();
    [...enc.parameters()[1], ...dec.parameters()[1]].forEach((g, i) =>
      close(g, torchGrads[i]!, `param ${i}`),
    );
    // The user's states serve one forward only.
    expect(dec.userPrevOutput).toBeNull();
  });

  it("couples inside Sequential containers, as Torch's encoder-decoder-coupling-seqLSTM example", () => {
    manualSeed(23);
    const [T, N, V, H] = [3, 2, 6, 4];
    const encLSTM = new nn.SeqLSTM(H, H);
    const decLSTM = new nn.SeqLSTM(H, H);
    const enc = new nn.Sequential().add(new nn.LookupTable(V, H)).add(encLSTM).double();
    const dec = new nn.Sequential()
      .add(new nn.LookupTable(V, H))
      .add(decLSTM)
      .add(new nn.Sequencer(new nn.Linear(H, V)))
      .double();
    const xe = randint(0, V, [T, N]);
    const xd = randint(0, V, [5, N]);
    const gy = randn([5, N, V], f64);
    const run = (torchStyle: boolean) => {
      for (const m of [enc, dec]) m.zeroGradParameters();
      const ye = enc.forward(xe) as Tensor;
      decLSTM.userPrevOutput = select(ye, 0, T - 1);
      decLSTM.userPrevCell = select(encLSTM.cell!, 0, T - 1);
      const yd = dec.forward(xd) as Tensor;
      if (torchStyle) {
        dec.backward(xd, gy);
        encLSTM.gradPrevOutput = decLSTM.userGradPrevOutput;
        encLSTM.userNextGradCell = decLSTM.userGradPrevCell;
        enc.backward(xe, zeros(ye.shape, f64));
      } else sum(mul(yd, gy)).backward();
      return [...enc.parameters()[1], ...dec.parameters()[1]].map((g) => g.clone());
    };
    const torch = run(true);
    expect(decLSTM.userGradPrevOutput).not.toBeNull();
    run(false).forEach((g, i) => close(torch[i]!, g, `param ${i}`));
  });

  it('has Torch parameter layout and initialisation', () => {
    manualSeed(1);
    const seq = new nn.SeqLSTM(30, 20);
    expect(seq.weight.shape).toEqual([50, 80]);
    expect(seq.bias.shape).toEqual([80]);
    const b = seq.bias.dataSync();
    expect(Array.from(b.slice(20, 40)).every((v) => v === 1)).toBe(true);
    expect(Array.from(b.slice(0, 20)).every((v) => v === 0)).toBe(true);
    const w = seq.weight.dataSync();
    const std = Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
    expect(Math.abs(std - 1 / Math.sqrt(50))).toBeLessThan(0.01);
    const p = new nn.SeqLSTM(4, 6, 3);
    expect([p.weight.shape, p.weightO!.shape]).toEqual([
      [7, 24],
      [6, 3],
    ]);
    expect(String(p)).toBe('nn.SeqLSTM(4 -> 6 -> 3)');
    expect(() => p.toFastLSTM()).toThrow(/projection \(LSTMP\) has no FastLSTM equivalent/);
  });

  it('rejects bad input, naming the module and the shapes', () => {
    const seq = new nn.SeqLSTM(3, 2);
    expect(() => seq.forward(randn([4, 3]))).toThrow(
      'nn.SeqLSTM(3 -> 2): input: has shape [4, 3], expected a float [T, N, 3] sequence',
    );
    expect(() => seq.forward(randn([4, 2, 5]))).toThrow(
      /has shape \[4, 2, 5\], expected a float \[T, N, 3\]/,
    );
    expect(() => seq.forward([randn([3, 2]), randn([4, 2, 3])])).toThrow(
      /initial state: has shape \[3, 2\], expected \[2, 2\] for an input of shape \[4, 2, 3\]/,
    );
    expect(() => seq.forward([randn([2, 2]), randn([2, 2]), randn([2, 2]), randn([4, 2, 3])])).toThrow(
      /expected x, \[h0, x\] or \[c0, h0, x\], got a table of 4 entries/,
    );
    seq.userPrevOutput = randn([5, 2]);
    expect(() => seq.forward(randn([4, 2, 3]))).toThrow(
      /userPrevOutput: has shape \[5, 2\], expected \[2, 2\]/,
    );
    seq.userPrevOutput = null;
    expect(() => new nn.SeqLSTM(0, 2)).toThrow(/inputSize must be a positive integer, got 0/);
    const y = seq.forward(randn([4, 2, 3])) as Tensor;
    expect(() => seq.backward(randn([4, 2, 3]), randn([4, 2, 3]))).toThrow(
      /gradOutput is \[4, 2, 3\], expected the output's \[4, 2, 2\]/,
    );
    expect(y.shape).toEqual([4, 2, 2]);
  });
});
