/**
 * AbstractRecurrent's state API (Torch's getHiddenState / setHiddenState / getGradHiddenState /
 * setGradHiddenState, remember modes) and the graph cuts that keep memory bounded. Each test compares with the
 * same GRU computed on the tape (vjp of an explicit objective), so a hook that is silently ignored shows.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, noGrad, randn, tidy, vjp, zeros } from '@webrnn/rnn';
import { arr, expectClose, f64 } from './recurrentHelpers.js';
import { D, H, N, TOL, gru, inputs, reference } from './helpers/gruState.js';

describe('setGradHiddenState / getGradHiddenState (encoder-decoder coupling)', () => {
  const T = 4;
  const seed = 11;

  it('a gradient set on the last state reaches the parameters and the initial state in a step-wise backward', () => {
    fcCases((G, h0) => {
      const xs = inputs(5, T);
      const ref = reference(seed, xs, null, G, h0);
      const m = gru(seed);
      m.userPrevOutput = h0;
      for (const x of xs) m.forward(x);
      m.setGradHiddenState(G);
      expectClose([arr(m.getGradHiddenState() as Tensor)], [arr(G)], 0, 'getGradHiddenState before backward');
      for (let t = T - 1; t >= 0; t--) m.backward(xs[t]!, zeros([N, H], f64));
      expectClose(m.parameters()[1].map(arr), ref.gp, TOL, 'parameter gradients');
      expectClose([arr(m.getGradHiddenState() as Tensor)], [ref.gh0], TOL, 'gradient of the initial state');
    });
  });

  it('a gradient set on the last state reaches the parameters in a whole-sequence (Sequencer) backward', () => {
    fcCases((G, h0) => {
      const xs = inputs(6, T);
      manualSeed(8);
      const R = xs.map(() => randn([N, H], f64));
      const ref = reference(seed, xs, R, G, h0);
      const m = gru(seed);
      m.userPrevOutput = h0;
      const seq = new nn.Sequencer(m);
      seq.forward(xs);
      m.setGradHiddenState(G);
      seq.backward(xs, R);
      expectClose(m.parameters()[1].map(arr), ref.gp, TOL, 'parameter gradients');
      expectClose([arr(m.getGradHiddenState() as Tensor)], [ref.gh0], TOL, 'gradient of the initial state');
      // As Torch, the gradient serves one backward: a second one without it equals the plain objective's.
      m.zeroGradParameters();
      seq.forward(xs);
      seq.backward(xs, R);
      const plain = reference(seed, xs, R, zeros([N, H], f64), h0);
      expectClose(m.parameters()[1].map(arr), plain.gp, TOL, 'the next backward has no state gradient');
    });
  });
});

describe('setGradHiddenState with a gradient of the wrong shape', () => {
  it('a whole-sequence backward refuses it, naming the hook, what it got and what it expected', () => {
    const m = gru(1);
    const seq = new nn.Sequencer(m);
    const xs = inputs(2, 2);
    seq.forward(xs);
    m.setGradHiddenState(zeros([N, H + 1], f64));
    expect(() =>
      seq.backward(
        xs,
        xs.map(() => zeros([N, H], f64)),
      ),
    ).toThrow(/GRU\.setGradHiddenState.*\[2, 5\].*expected the last state's .*\[2, 4\]/);
  });
});

/** A few random [G, h0] pairs (the GRU's state gradient and initial state). */
function fcCases(check: (G: Tensor, h0: Tensor) => void): void {
  for (const s of [1, 2, 3]) {
    tidy(() => {
      manualSeed(100 + s);
      check(randn([N, H], f64), randn([N, H], f64).mul(0.5));
    });
  }
}

describe('getHiddenState(step)', () => {
  it('returns the state after each kept step, the initial state at -1, and refuses steps out of range', () => {
    for (const [T, rho] of [
      [4, 10],
      [6, 2],
      [1, 1],
    ] as const) {
      tidy(() => {
        const m = gru(3, rho);
        manualSeed(4);
        const h0 = randn([N, H], f64);
        m.userPrevOutput = h0;
        const outs = inputs(2, T).map((x) => arr(m.forward(x) as Tensor));
        // Training keeps the last rho steps, and the state before the oldest of them.
        const first = Math.max(0, T - rho);
        for (let t = first - 1; t < T; t++) {
          const want = t === -1 ? arr(h0) : outs[t]!;
          expectClose([arr(m.getHiddenState(t) as Tensor)], [want], 0, `T=${T} rho=${rho} step ${t}`);
        }
        expectClose([arr(m.getHiddenState() as Tensor)], [outs[T - 1]!], 0, 'latest');
        for (const bad of [T, T + 1, first - 2, 0.5]) {
          expect(() => m.getHiddenState(bad), `T=${T} rho=${rho} step ${bad}`).toThrow(
            `GRU.getHiddenState: step ${bad} is not kept: after ${T} forward step(s) steps ${first - 1}..${T - 1} are`,
          );
        }
      });
    }
  });

  it('in evaluation only the latest state is kept', () => {
    const m = gru(3);
    m.evaluate();
    const outs = inputs(2, 3).map((x) => arr(m.forward(x) as Tensor));
    expectClose([arr(m.getHiddenState(2) as Tensor)], [outs[2]!], 0, 'latest');
    expect(() => m.getHiddenState(1)).toThrow(
      'GRU.getHiddenState: step 1 is not kept: after 3 forward step(s) only step 2 are',
    );
  });
});

describe("remember modes: 'eval' and 'train'", () => {
  const T = 3;
  /** Outputs of the second of two chunks run through a Sequencer. */
  function secondChunk(mode: nn.RememberMode | null, train: boolean): number[][] {
    return tidy(() => {
      const seq = new nn.Sequencer(gru(21));
      if (mode) seq.remember(mode);
      if (train) seq.training();
      else seq.evaluate();
      const xs = inputs(9, 2 * T);
      seq.forward(xs.slice(0, T));
      return (seq.forward(xs.slice(T)) as Tensor[]).map(arr);
    });
  }
  const whole = (train: boolean) =>
    tidy(() => {
      const seq = new nn.Sequencer(gru(21));
      if (!train) seq.evaluate();
      return (seq.forward(inputs(9, 2 * T)) as Tensor[]).slice(T).map(arr);
    });
  const fresh = (train: boolean) =>
    tidy(() => {
      const seq = new nn.Sequencer(gru(21));
      if (!train) seq.evaluate();
      return (seq.forward(inputs(9, 2 * T).slice(T)) as Tensor[]).map(arr);
    });

  it('each mode carries the state over exactly in the phases it names', () => {
    const carries: Record<nn.RememberMode, [boolean, boolean]> = {
      both: [true, true],
      train: [true, false],
      eval: [false, true],
      neither: [false, false],
    };
    for (const [mode, [inTrain, inEval]] of Object.entries(carries) as [
      nn.RememberMode,
      [boolean, boolean],
    ][]) {
      for (const train of [true, false]) {
        const carried = train ? inTrain : inEval;
        const m = gru(1).remember(mode);
        if (train) m.training();
        else m.evaluate();
        expect(m.remembering, `${mode} in ${train ? 'training' : 'evaluation'}`).toBe(carried);
        const got = secondChunk(mode, train);
        const want = carried ? whole(train) : fresh(train);
        expectClose(got, want, 1e-12, `${mode} in ${train ? 'training' : 'evaluation'}`);
        // The two references differ, so the comparison decides.
        expect(whole(train)[0]![0]).not.toBeCloseTo(fresh(train)[0]![0]!, 6);
      }
    }
  });
});

describe('the graph is cut every rho steps and at cutGraph(), so memory stays bounded', () => {
  it('training for 10 x rho steps without backward keeps a bounded number of tensors', () => {
    for (const rho of [1, 3, 5]) {
      const m = gru(2, rho);
      const x = inputs(3, 1)[0]!;
      const counts: number[] = [];
      for (let t = 0; t < 10 * rho; t++) {
        tidy(() => void m.forward(x));
        counts.push(memory().tensors);
      }
      // Same phase of the rho-cycle, 2 and 9 cycles in: the same number of live tensors.
      expect(counts[10 * rho - 1], `rho=${rho}: ${counts.join(',')}`).toBe(counts[3 * rho - 1]);
      m.forget();
    }
  });

  it('gradients of a step stop at the last cut: out_t depends only on the steps since it', () => {
    const rho = 2;
    const T = 5; // cuts before steps 3 and 5 (1-based): out_5 depends on step 5 alone
    const xs = inputs(4, T);
    manualSeed(12);
    const R = randn([N, H], f64);
    const m = gru(7, rho);
    const outs = xs.map((x) => m.forward(x) as Tensor);
    const h4 = noGrad(() => outs[3]!.clone());
    const got = vjp([outs[4]!], [R], m.parameters()[0]).map((g) => arr(g!));
    // One step of the same GRU from the (constant) state after step 4.
    const one = gru(7);
    one.userPrevOutput = h4;
    const out = one.forward(xs[4]!) as Tensor;
    const want = vjp([out], [R], one.parameters()[0]).map((g) => arr(g!));
    expectClose(got, want, TOL, 'gradient through the cut');
    // And the uncut module differs (so the cut is what makes them equal).
    const uncut = gru(7);
    const full = xs.map((x) => uncut.forward(x) as Tensor);
    const deep = vjp([full[4]!], [R], uncut.parameters()[0]).map((g) => arr(g!));
    expect(Math.max(...deep.flat().map((v, i) => Math.abs(v - want.flat()[i]!)))).toBeGreaterThan(1e-6);
  });

  it('a remembering Sequencer over 10 sequences keeps a bounded number of tensors (cutGraph)', () => {
    const m = gru(5);
    const seq = new nn.Sequencer(m).remember('both');
    const xs = inputs(6, 3);
    const counts: number[] = [];
    for (let k = 0; k < 10; k++) {
      tidy(() => void seq.forward(xs));
      counts.push(memory().tensors);
    }
    expect(counts[9], counts.join(',')).toBe(counts[2]);
    // The state did carry over (remembering), so the bound is not that of forgetting.
    const a = tidy(() => arr((seq.forward(xs) as Tensor[])[0]!));
    seq.forget();
    const b = tidy(() => arr((seq.forward(xs) as Tensor[])[0]!));
    expect(a).not.toEqual(b);
  });
});
