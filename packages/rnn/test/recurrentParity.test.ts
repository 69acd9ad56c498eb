/**
 * Torch parity of the recurrent state API (issue 12), checked against fresh modules with the same weights and
 * against the same computation run by hand.
 */
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, memory, nn, randn, tidy, vjp } from '@webrnn/rnn';
import { expectClose, f64, gradValues, values } from './recurrentHelpers.js';

const D = 3;
const H = 4;
const N = 2;
const TOL = 1e-12;

type Kind = 'LSTM' | 'FastLSTM' | 'GRU' | 'Recurrent';
const KINDS: Kind[] = ['LSTM', 'FastLSTM', 'GRU', 'Recurrent'];

function make(kind: Kind, seed: number): InstanceType<typeof nn.AbstractRecurrent> {
  manualSeed(seed);
  switch (kind) {
    case 'LSTM':
      return new nn.LSTM(D, H).double();
    case 'FastLSTM':
      return new nn.FastLSTM(D, H).double();
    case 'GRU':
      return new nn.GRU(D, H).double();
    case 'Recurrent':
      return new nn.Recurrent(H, new nn.Linear(D, H), new nn.Linear(H, H), new nn.Tanh(), 99).double();
  }
}

function xsOf(seed: number, T: number): Tensor[] {
  manualSeed(seed);
  return Array.from({ length: T }, () => randn([N, D], f64));
}

/** A non-zero state of the module's layout ([h, c] for the LSTMs, h otherwise). */
function stateOf(kind: Kind, seed: number): Activity {
  manualSeed(seed);
  const h = randn([N, H], f64);
  return kind === 'LSTM' || kind === 'FastLSTM' ? [h, randn([N, H], f64)] : h;
}

describe('setHiddenState before the first step is the step-0 state (Torch), which forget() clears', () => {
  for (const kind of KINDS) {
    it(`${kind}: after forget() the module starts from zeros, as a fresh one`, () => {
      const xs = xsOf(1, 3);
      const m = make(kind, 7);
      m.setHiddenState(stateOf(kind, 2));
      m.forget();
      const ys = xs.map((x) => values(m.forward(x)));
      const fresh = make(kind, 7);
      expectClose(ys.flat(), xs.map((x) => values(fresh.forward(x))).flat(), TOL);
      // Not vacuous: starting from the state gives other outputs.
      const from = make(kind, 7);
      from.setHiddenState(stateOf(kind, 2));
      expect(Math.abs(values(from.forward(xs[0]!))[0]![0]! - ys[0]![0]![0]!)).toBeGreaterThan(1e-6);
    });

    it(`${kind}: without forget() the first step starts from it, the next sequence from zeros again`, () => {
      const xs = xsOf(3, 3);
      const m = make(kind, 7);
      const s = stateOf(kind, 4);
      m.setHiddenState(s);
      expectClose(values(m.getHiddenState()!), values(s), 0, 'getHiddenState before the first step');
      const ys = xs.map((x) => values(m.forward(x)));
      // By hand: a fresh module whose state after a first step is replaced by s, then the same steps.
      const byHand = make(kind, 7);
      byHand.forward(xs[0]!);
      byHand.setHiddenState(s);
      expectClose(ys.flat(), xs.map((x) => values(byHand.forward(x))).flat(), TOL);
      m.forget();
      const fresh = make(kind, 7);
      expectClose(values(m.forward(xs[0]!)), values(fresh.forward(xs[0]!)), TOL, 'after forget');
    });
  }
});

describe('Recursor passes the state API on to its module (Torch)', () => {
  for (const kind of KINDS) {
    it(`${kind}: Recursor(${kind}) equals ${kind} for get/setHiddenState and get/setGradHiddenState`, () => {
      const xs = xsOf(5, 4);
      const plain = make(kind, 7);
      const rec = new nn.Recursor(make(kind, 7));
      const s = stateOf(kind, 6);
      const gs = stateOf(kind, 8);
      for (const m of [plain, rec]) m.setHiddenState(s);
      expectClose(values(rec.getHiddenState()!), values(s), 0, 'step-0 state');
      const ys = [plain, rec].map((m) => xs.slice(0, 2).map((x) => values(m.forward(x))));
      expectClose(values(rec.getHiddenState()!), values(plain.getHiddenState()!), TOL, 'getHiddenState()');
      expectClose(values(rec.getHiddenState(0)!), values(plain.getHiddenState(0)!), TOL, 'getHiddenState(0)');
      // Mid-sequence: the next step starts from s.
      for (const m of [plain, rec]) m.setHiddenState(s);
      for (const x of xs.slice(2)) ys.forEach((y, i) => y.push(values([plain, rec][i]!.forward(x))));
      expectClose(ys[1]!.flat(), ys[0]!.flat(), TOL, 'outputs');
      expectClose(values(rec.getHiddenState()!), values(plain.getHiddenState()!), TOL, 'state after s');
      // A gradient into the last state, then backward: the gradients with respect to the states agree.
      for (const m of [plain, rec]) m.setGradHiddenState(gs);
      expectClose(values(rec.getGradHiddenState()!), values(gs), 0, 'getGradHiddenState after set');
      manualSeed(9);
      const gys = xs.map(() => randn([N, H], f64));
      for (let t = xs.length - 1; t >= 0; t--) {
        const a = values(plain.backward(xs[t]!, gys[t]!));
        const b = values(rec.backward(xs[t]!, gys[t]!));
        expectClose(b, a, TOL, `gradInput ${t}`);
        expectClose(values(rec.getGradHiddenState()!), values(plain.getGradHiddenState()!), TOL, `grad ${t}`);
      }
      // Not vacuous: the gradient with respect to the initial state is not zero.
      expect(
        values(rec.getGradHiddenState()!)
          .flat()
          .some((v) => Math.abs(v) > 1e-6),
      ).toBe(true);
    });
  }

  it('a Recursor over a module without a state has none', () => {
    const r = new nn.Recursor(new nn.Linear(D, H));
    expect(r.getHiddenState()).toBeNull();
    expect(r.getGradHiddenState()).toBeNull();
  });
});

describe('forget, remember, maxBPTTstep and the state API on every module; containers recurse', () => {
  const build = () => {
    manualSeed(11);
    const lstm = new nn.LSTM(D, H);
    const gru = new nn.GRU(H, H);
    const seq = new nn.Sequential().add(lstm).add(new nn.Linear(H, H)).add(gru).double();
    return { seq, lstm, gru };
  };

  it('forget() on a Sequential starts every recurrent module inside afresh', () => {
    const xs = xsOf(12, 3);
    const { seq, lstm, gru } = build();
    const first = xs.map((x) => values(seq.forward(x)));
    expect([lstm.step, gru.step]).toEqual([3, 3]);
    expect(seq.forget()).toBe(seq);
    expect([lstm.step, gru.step]).toEqual([0, 0]);
    expectClose(xs.map((x) => values(seq.forward(x))).flat(), first.flat(), TOL);
    expect(new nn.Linear(2, 2).forget()).toBeInstanceOf(nn.Linear);
  });

  it('remember(mode) and maxBPTTstep(rho) reach every recurrent module; a bad mode is refused', () => {
    const { seq, lstm, gru } = build();
    expect(seq.remember('eval')).toBe(seq);
    expect([lstm.rememberMode, gru.rememberMode]).toEqual(['eval', 'eval']);
    seq.remember();
    expect([lstm.rememberMode, gru.rememberMode]).toEqual(['both', 'both']);
    expect(seq.maxBPTTstep(3)).toBe(seq);
    expect([lstm.rho, gru.rho]).toEqual([3, 3]);
    expect(() => seq.remember('always' as never)).toThrow(
      "nn.Sequential.remember: mode must be 'neither', 'both', 'train' or 'eval', got 'always'",
    );
  });

  it('get/setHiddenState and get/setGradHiddenState are tables with one entry per child', () => {
    const xs = xsOf(13, 2);
    const { seq, lstm, gru } = build();
    const ref = build();
    for (const x of xs) {
      seq.forward(x);
      ref.seq.forward(x);
    }
    const st = seq.getHiddenState() as Activity[];
    expect(st.length).toBe(3);
    expect(st[1]).toEqual([]);
    expectClose(values(st[0]!), values(lstm.getHiddenState()!), 0, 'lstm');
    expectClose(values(st[2]!), values(gru.getHiddenState()!), 0, 'gru');
    // Setting a table equals setting each child's state.
    const sl = stateOf('LSTM', 14);
    manualSeed(15);
    const sg = randn([N, H], f64);
    seq.setHiddenState([sl, [], sg]);
    ref.lstm.setHiddenState(sl);
    ref.gru.setHiddenState(sg);
    expectClose(values(seq.forward(xs[0]!)), values(ref.seq.forward(xs[0]!)), TOL, 'after set');
    seq.setGradHiddenState([sl, [], sg]);
    expectClose(values(lstm.getGradHiddenState()!), values(sl), 0, 'lstm grad');
    const g = seq.getGradHiddenState() as Activity[];
    expectClose(values(g[2]!), values(sg), 0, 'gru grad');
    expect(new nn.Linear(2, 2).getHiddenState()).toBeNull();
    expect(() => seq.setHiddenState([sl, sg])).toThrow(
      'nn.Sequential.setHiddenState: got {{[2, 4] float64, [2, 4] float64}, [2, 4] float64}, expected a table of 3 entries (one per child',
    );
  });
});

describe('step-wise updateGradInput then accGradParameters equals step-wise backward (Torch protocol)', () => {
  const T = 4;
  for (const kind of KINDS) {
    it(`${kind}: gradInputs and parameter gradients, interleaved or all updateGradInput first`, () => {
      const xs = xsOf(21, T);
      manualSeed(22);
      const gys = xs.map(() => randn([N, H], f64));
      const run = (how: 'backward' | 'interleaved' | 'split', scale: number) => {
        const m = make(kind, 7);
        m.zeroGradParameters();
        for (const x of xs) m.forward(x);
        const gxs: number[][][] = [];
        for (let t = T - 1; t >= 0; t--) {
          if (how === 'backward') gxs[t] = values(m.backward(xs[t]!, gys[t]!, scale));
          else {
            gxs[t] = values(m.updateGradInput(xs[t]!, gys[t]!));
            if (how === 'interleaved') m.accGradParameters(xs[t]!, gys[t]!, scale);
          }
        }
        if (how === 'split') {
          // updateGradInput alone leaves the parameters' gradients alone.
          expect(
            gradValues(m)
              .flat()
              .every((v) => v === 0),
          ).toBe(true);
          for (let t = T - 1; t >= 0; t--) m.accGradParameters(xs[t]!, gys[t]!, scale);
        }
        return { gxs: gxs.flat(), grads: gradValues(m) };
      };
      const ref = run('backward', 1);
      expect(ref.grads.flat().some((v) => Math.abs(v) > 1e-6)).toBe(true);
      const inter = run('interleaved', 1);
      expectClose(inter.gxs, ref.gxs, TOL, 'gradInput');
      expectClose(inter.grads, ref.grads, TOL, 'parameter gradients');
      const half = run('backward', 0.5);
      const split = run('split', 0.5);
      expectClose(split.gxs, half.gxs, TOL, 'gradInput (split)');
      expectClose(split.grads, half.grads, TOL, 'parameter gradients (split, scale 0.5)');
    });
  }

  it('accGradParameters without a matching updateGradInput is refused, naming the module', () => {
    const m = make('GRU', 7);
    const [x] = xsOf(23, 1);
    m.forward(x!);
    const gy = randn([N, H], f64);
    expect(() => m.accGradParameters(x!, gy)).toThrow(
      'nn.GRU(3 -> 4, 0.00): accGradParameters: called without a matching updateGradInput since the last forward',
    );
    m.updateGradInput(x!, gy);
    m.accGradParameters(x!, gy);
    expect(() => m.accGradParameters(x!, gy)).toThrow('called without a matching updateGradInput');
  });

  it('the parameter gradients waiting for accGradParameters leak nothing (used, or dropped by forward/forget)', () => {
    const m = make('LSTM', 7);
    const xs = xsOf(24, 3);
    const gy = randn([N, H], f64);
    const round = () =>
      tidy(() => {
        for (const x of xs) m.forward(x);
        for (let t = 2; t >= 0; t--) {
          m.updateGradInput(xs[t]!, gy);
          if (t > 0) m.accGradParameters(xs[t]!, gy);
        }
        m.forward(xs[0]!); // drops the one left waiting
        m.updateGradInput(xs[0]!, gy);
        m.forget(); // and this one
      });
    round();
    const before = memory().tensors;
    round();
    expect(memory().tensors).toBe(before);
  });
});

describe('step-wise backward through a plain Sequential holding a recurrent module', () => {
  const T = 4;
  const net = () => {
    manualSeed(31);
    const rec = new nn.Recurrence(
      new nn.Sequential()
        .add(new nn.ParallelTable().add(new nn.Linear(D, H)).add(new nn.Linear(H, H)))
        .add(new nn.CAddTable())
        .add(new nn.Tanh()),
      H,
      1,
    );
    return new nn.Sequential().add(rec).add(new nn.Linear(H, 2)).double();
  };

  it('is refused (it would be silently wrong), naming nn.Recursor; wrapped in a Recursor it equals the tape', () => {
    const xs = xsOf(32, T);
    manualSeed(33);
    const gys = xs.map(() => randn([N, 2], f64));
    const seq = net();
    for (const x of xs) seq.forward(x);
    expect(() => seq.backward(xs[T - 1]!, gys[T - 1]!)).toThrow(
      "nn.Recurrence inside keeps 4 steps but only 1 came from this module's last forward: a step-wise backward",
    );
    expect(() => seq.updateGradInput(xs[T - 1]!, gys[T - 1]!)).toThrow('wrap the container in nn.Recursor');

    // The Recursor's step-wise backward against the tape over the unrolled steps.
    const r = new nn.Recursor(net());
    r.zeroGradParameters();
    for (const x of xs) r.forward(x);
    const gxs = [...xs.keys()].reverse().map((t) => values(r.backward(xs[t]!, gys[t]!)));
    const ref = net();
    const leaves = xs.map((x) => x.clone().requiresGrad_());
    const outs = leaves.map((x) => ref.forward(x) as Tensor);
    const params = ref.parameters()[0];
    const g = vjp(outs, gys, [...leaves, ...params]).map((t) => values(t!));
    expectClose(gxs.reverse().flat(), g.slice(0, T).flat(), 1e-10, 'gradInputs');
    expectClose(
      gradValues(r),
      g.slice(T).map((v) => v.flat()),
      1e-10,
      'parameter gradients',
    );
    expect(
      g
        .slice(T)
        .flat(2)
        .some((v) => Math.abs(v) > 1e-6),
    ).toBe(true);
  });

  it('a whole-sequence forward and backward through a container (one of each) still works', () => {
    const xs = xsOf(34, T);
    manualSeed(35);
    const gys = xs.map(() => randn([N, 2], f64));
    const s = new nn.Sequential().add(new nn.Sequencer(net())).double();
    s.forward(xs);
    const gx = s.backward(xs, gys) as Tensor[];
    expect(gx.length).toBe(T);
    s.forward(xs);
    expect((s.backward(xs, gys) as Tensor[]).length).toBe(T);
  });
});
