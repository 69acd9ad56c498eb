/**
 * Equivalence tests in the style of Element-research/rnn's test/test.lua, continued (testRemember in
 * rnntest.Sequencer, rnntest.rnnlm): chunked sequences with forget/remember against whole ones, in training and
 * evaluation, and one Sequencer over a stack against a stack of Sequencers. Everything in float64 on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, randint, randn, stack, transpose } from '@webrnn/rnn';
import {
  arr,
  copyParams,
  expectActivityClose,
  expectClose,
  f64,
  gradValues,
  paramValues,
  values,
  recurrentLayer,
} from './recurrentHelpers.js';

type AbstractRecurrent = InstanceType<typeof nn.AbstractRecurrent>;

const TOL = 1e-12;

describe('forget and remember with sequences of variable length (testRemember)', () => {
  const lengths = [5, 4, 5, 3, 7, 3, 3, 3];
  const total = lengths.reduce((a, b) => a + b);
  const [N, H] = [4, 7];
  const chunks = <T>(xs: T[]): T[][] => {
    let k = 0;
    return lengths.map((n) => xs.slice(k, (k += n)));
  };
  const lr = 0.5;
  const builders: [string, () => AbstractRecurrent][] = [
    ['Recurrent', () => recurrentLayer(H, H, 7).double()],
    ['FastLSTM', () => new nn.FastLSTM(H, H, 7).double()],
    ['LSTM', () => new nn.LSTM(H, H, 7).double()],
  ];

  for (const [name, build] of builders) {
    it(`${name}: step-wise chunks = Recursor chunks = Sequencer with remember('both'), in training and evaluation`, () => {
      manualSeed(10);
      const rnn = build();
      const fresh = () => {
        const m = build();
        copyParams(rnn, m);
        return m;
      };
      const rnn7 = fresh();
      const rnn9 = fresh();
      const rnn10 = new nn.Recursor(fresh());
      const seq = new nn.Sequencer(fresh()).remember('both');
      let inputs = Array.from({ length: total }, () => randn([N, H], f64));
      const outputs9 = inputs.map((x) => values(rnn9.forward(x)));
      // Forward in chunks without forget() equals one long sequence, twice.
      for (let k = 0; k < 2; k++) {
        expectClose(
          inputs.map((x) => values(rnn7.forward(x))).flat(),
          outputs9.flat(),
          TOL,
          `remember forward ${k}`,
        );
        rnn7.forget();
      }
      // Training in chunks: forward a chunk, backward it (maxBPTTstep = its length), update.
      const gradOutputs = inputs.map(() => randn([N, H], f64));
      const train = (m: AbstractRecurrent) => {
        const outs: number[][][] = [];
        const gins: number[][][] = [];
        chunks(inputs).forEach((xs, i) => {
          const gs = chunks(gradOutputs)[i]!;
          const s = (() => {
            const ys = xs.map((x) => values(m.forward(x)));
            m.maxBPTTstep(xs.length);
            const gx: number[][][] = [];
            for (let t = xs.length - 1; t >= 0; t--) gx[t] = values(m.backward(xs[t]!, gs[t]!));
            return { ys, gx };
          })();
          outs.push(...s.ys);
          gins.push(...s.gx);
          m.updateParameters(lr);
          m.zeroGradParameters();
        });
        return { outs, gins };
      };
      const seqTrain = () => {
        const outs: number[][][] = [];
        const gins: number[][][] = [];
        chunks(inputs).forEach((xs, i) => {
          seq.training();
          outs.push(...(seq.forward(xs) as Activity[]).map(values));
          gins.push(...(seq.backward(xs, chunks(gradOutputs)[i]!) as Activity[]).map(values));
          seq.updateParameters(lr);
          seq.zeroGradParameters();
        });
        return { outs, gins };
      };
      const a = train(rnn7);
      const b = train(rnn10);
      expectClose(b.outs.flat(), a.outs.flat(), TOL, 'Recursor outputs');
      expectClose(b.gins.flat(), a.gins.flat(), TOL, 'Recursor gradInputs');
      const c = seqTrain();
      expectClose(c.outs.flat(), a.outs.flat(), TOL, 'Sequencer outputs');
      expectClose(c.gins.flat(), a.gins.flat(), TOL, 'Sequencer gradInputs');
      expectClose(paramValues(seq), paramValues(rnn7), TOL, 'Sequencer parameters');

      // Evaluation with remember, chunk by chunk (seq.evaluate() before each chunk forgets only the first time).
      const e7 = fresh();
      copyParams(seq, e7);
      copyParams(seq, rnn9);
      e7.evaluate();
      rnn9.evaluate();
      rnn9.forget();
      inputs = Array.from({ length: total }, () => randn([N, H], f64));
      const eval9 = inputs.map((x) => values(rnn9.forward(x)));
      for (let k = 0; k < 2; k++) {
        expectClose(inputs.map((x) => values(e7.forward(x))).flat(), eval9.flat(), TOL, `eval forward ${k}`);
        e7.forget();
      }
      const evalSeq = chunks(inputs).flatMap((xs) => {
        seq.evaluate();
        return (seq.forward(xs) as Activity[]).map(values);
      });
      expectClose(evalSeq.flat(), eval9.flat(), TOL, 'Sequencer eval remember');

      // Back to training (seq.training() forgets the evaluation's state first, as in Torch).
      e7.training();
      e7.forget();
      inputs = Array.from({ length: total }, () => randn([N, H], f64));
      const a2 = train(e7);
      const c2 = seqTrain();
      expectClose(c2.outs.flat(), a2.outs.flat(), TOL, 'Sequencer outputs after evaluation');
      expectClose(c2.gins.flat(), a2.gins.flat(), TOL, 'Sequencer gradInputs after evaluation');
      expectClose(paramValues(seq), paramValues(e7), TOL, 'Sequencer parameters after evaluation');
    });
  }

  it("evaluation with remember('both') over steps {1,2,3} then {4,5} equals all 5 at once; without it, each starts afresh", () => {
    manualSeed(4);
    const seq = new nn.Sequencer(recurrentLayer(3, 7, 5).double());
    const xs = Array.from({ length: 5 }, () => randn([4, 3], f64));
    seq.evaluate();
    const all = (seq.forward(xs) as Activity[]).map(values);
    const four = (seq.forward(xs.slice(0, 4)) as Activity[]).map(values);
    expect(four.length).toBe(4);
    expectClose(four.flat(), all.slice(0, 4).flat(), TOL, 'evaluate -1');
    seq.remember();
    seq.evaluate();
    seq.forget();
    const A = (seq.forward(xs.slice(0, 3)) as Activity[]).map(values);
    const B = (seq.forward(xs.slice(3)) as Activity[]).map(values);
    expect([A.length, B.length]).toEqual([3, 2]);
    expectClose([...A, ...B].flat(), all.flat(), TOL, 'evaluate-remember');
    // And on tensors [T, N, D] (Sequencer_tensoreval).
    seq.forget();
    const whole = seq.forward(stack(xs)) as Tensor;
    expect(whole.shape).toEqual([5, 4, 7]);
    expectClose([arr(whole)], [all.flat().flat()], TOL, 'tensor input');
  });
});

describe('one Sequencer over a stack equals a stack of Sequencers (rnnlm)', () => {
  it('LookupTable, FastLSTM, FastLSTM, Linear, LogSoftMax: 2 x 4 SGD steps with remember, then evaluation', () => {
    manualSeed(5);
    const [vocab, T, N, H] = [100, 5, 3, 20];
    const lookup = new nn.LookupTable(vocab, H);
    const rnns = [new nn.FastLSTM(H, H), new nn.FastLSTM(H, H)];
    const linear = new nn.Linear(H, vocab);
    const step = new nn.Sequential().add(rnns[0]!).add(rnns[1]!).add(linear).add(new nn.LogSoftMax());
    const seq1 = new nn.Sequencer(step).remember('both');
    const lm = new nn.Sequential().add(lookup).add(new nn.SplitTable(0)).add(seq1).double();
    const seqs = [
      new nn.Sequencer(rnns[0]!.clone()).remember('both'),
      new nn.Sequencer(rnns[1]!.clone()).remember('both'),
      new nn.Sequencer(new nn.Sequential().add(linear.clone()).add(new nn.LogSoftMax())),
    ];
    const lm2 = new nn.Sequential()
      .add(lookup.clone())
      .add(new nn.SplitTable(0, 2))
      .add(seqs[0]!)
      .add(seqs[1]!)
      .add(seqs[2]!)
      .double();
    expectClose(paramValues(lm2), paramValues(lm), 0, 'initial parameters');
    for (let j = 0; j < 2; j++) {
      const inputs = randint(0, vocab, [T, N]);
      const gradOutputs = Array.from({ length: T }, () => randn([N, vocab], f64));
      lm.training();
      lm2.training();
      for (let i = 0; i < 4; i++) {
        const outputs = lm.forward(inputs);
        lm.zeroGradParameters();
        const gradInputs = lm.backward(inputs, gradOutputs) as Tensor;
        lm.updateParameters(0.1);
        const inputs2 = transpose(inputs, 0, 1);
        const outputs2 = lm2.forward(inputs2);
        lm2.zeroGradParameters();
        const gradInputs2 = lm2.backward(inputs2, gradOutputs) as Tensor;
        lm2.updateParameters(0.1);
        expectClose([arr(gradInputs)], [arr(transpose(gradInputs2, 0, 1).contiguous())], 0, 'gradInputs');
        expectActivityClose(outputs2, outputs, TOL, 'outputs');
        expectClose(gradValues(lm2), gradValues(lm), TOL, 'gradParameters');
        expectClose(paramValues(lm2), paramValues(lm), TOL, 'parameters');
      }
      lm.evaluate();
      lm2.evaluate();
      for (let i = 0; i < 3; i++) {
        expectActivityClose(lm2.forward(transpose(inputs, 0, 1)), lm.forward(inputs), TOL, 'eval outputs');
      }
    }
  });
});
