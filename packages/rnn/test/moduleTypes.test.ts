/**
 * forward is typed: tensor-in/tensor-out modules, and containers built from them, need no cast (issue 16). These
 * are checked by the type-checker (the test command's tsc over the tests); the runtime assertions check that
 * the types tell the truth.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Activity, type Tensor, nn, randn, tensor, tidy } from '@webrnn/rnn';

describe('typed forward', () => {
  it('a layer gives a Tensor; a table layer a table', () => {
    tidy(() => {
      const x = randn([2, 3]);
      const y = new nn.Tanh().forward(x);
      expectTypeOf(y).toEqualTypeOf<Tensor>();
      expect(Array.isArray(y)).toBe(false);
      const parts = new nn.SplitTable(0).forward(x);
      expectTypeOf(parts).toEqualTypeOf<Tensor[]>();
      expect(parts).toHaveLength(2);
      const joined = new nn.JoinTable(0).forward(parts);
      expectTypeOf(joined).toEqualTypeOf<Tensor>();
      expect(joined.shape).toEqual([6]);
      // @ts-expect-error Tanh takes a tensor, not a table
      expect(() => new nn.Tanh().forward([x])).toThrow(/expected a tensor|got a table/i);
    });
  });

  it("a Sequential's output type is its last child's, through every add", () => {
    tidy(() => {
      const x = randn([2, 3]);
      const net = new nn.Sequential()
        .add(new nn.Linear(3, 4))
        .add(new nn.SplitTable(1))
        .add(new nn.CAddTable());
      const y = net.forward(x);
      expectTypeOf(y).toEqualTypeOf<Tensor>();
      expect(y.shape).toEqual([2]);
      const split = new nn.Sequential().add(new nn.Tanh()).add(new nn.SplitTable(0));
      expectTypeOf(split.forward(x)).toEqualTypeOf<Tensor[]>();
      // An untyped child (Activity out) makes the output an Activity again.
      expectTypeOf(
        new nn.Sequential().add(new nn.Tanh()).add(new nn.Identity()).forward(x),
      ).toEqualTypeOf<Activity>();
    });
  });

  it('Recursor and Sequencer follow their module', () => {
    tidy(() => {
      const step = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.LogSoftMax());
      const r = new nn.Recursor(step, 3);
      const out = r.forward(randn([2, 3]));
      expectTypeOf(out).toEqualTypeOf<Tensor>();
      expect(out.shape).toEqual([2, 4]);
      const seq = new nn.Sequencer(new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()));
      const whole = seq.forward(randn([5, 2, 3]));
      expectTypeOf(whole).toEqualTypeOf<Tensor>();
      expect(whole.shape).toEqual([5, 2, 4]);
      const steps = seq.forward([randn([2, 3]), randn([2, 3])]);
      expectTypeOf(steps).toEqualTypeOf<Tensor[]>();
      expect(steps).toHaveLength(2);
      const indices = new nn.LookupTable(10, 4).forward(tensor([1, 2], { dtype: 'int32' }));
      expectTypeOf(indices).toEqualTypeOf<Tensor>();
    });
  });

  it('the recurrent modules: LSTM, GRU and SeqLSTM give tensors, in a Sequencer too', () => {
    tidy(() => {
      const lstm = new nn.LSTM(3, 4);
      const h = lstm.forward(randn([2, 3]));
      expectTypeOf(h).toEqualTypeOf<Tensor>();
      expect(h.shape).toEqual([2, 4]);
      const g = lstm.backward(randn([2, 3]), randn([2, 4]));
      expectTypeOf(g).toEqualTypeOf<Tensor>();
      const steps = new nn.Sequencer(new nn.GRU(3, 4)).forward([randn([2, 3]), randn([2, 3])]);
      expectTypeOf(steps).toEqualTypeOf<Tensor[]>();
      expect(steps[1]!.shape).toEqual([2, 4]);
      const seq = new nn.SeqLSTM(3, 4).forward(randn([5, 2, 3]));
      expectTypeOf(seq).toEqualTypeOf<Tensor>();
      expect(seq.shape).toEqual([5, 2, 4]);
    });
  });

  it("a criterion's gradient has its input's type, so the tutorial's backward line needs no cast", () => {
    tidy(() => {
      const lin = new nn.Linear(3, 4);
      const x = randn([2, 3]);
      const out = lin.forward(x);
      expectTypeOf(out).toEqualTypeOf<Tensor>();
      const crit = new nn.MSECriterion();
      crit.forward(out, randn([2, 4]));
      const g = crit.backward(out, randn([2, 4]));
      expectTypeOf(g).toEqualTypeOf<Tensor>();
      expect(g.shape).toEqual([2, 4]);
      const gx = lin.backward(x, g);
      expectTypeOf(gx).toEqualTypeOf<Tensor>();
      expect(gx.shape).toEqual([2, 3]);
      const parts = [randn([2, 4]), randn([2, 4])];
      const seqCrit = new nn.SequencerCriterion(new nn.MSECriterion());
      const gs = seqCrit.backward(parts, [randn([2, 4]), randn([2, 4])]);
      expectTypeOf(gs).toEqualTypeOf<Tensor[]>();
      expect(gs).toHaveLength(2);
    });
  });
});
