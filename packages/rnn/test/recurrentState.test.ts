/**
 * AbstractRecurrent's state API (Torch's getHiddenState / setHiddenState / getGradHiddenState /
 * setGradHiddenState, remember modes) and the graph cuts that keep memory bounded. Each test compares with the
 * same GRU computed on the tape (vjp of an explicit objective), so a hook that is silently ignored shows.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, noGrad, randn, tidy, vjp, zeros } from '@webrnn/rnn';
import { arr, expectClose, f64 } from './recurrentHelpers.js';

const D = 3;
const H = 4;
const N = 2;
const TOL = 1e-9;

function gru(seed: number, rho?: number): nn.GRU {
  manualSeed(seed);
  return new nn.GRU(D, H, rho).double();
}

function inputs(seed: number, T: number): Tensor[] {
  manualSeed(seed);
  return Array.from({ length: T }, () => randn([N, D], f64));
}

/**
 * Reference on the tape: d/d(h0, params) of sum_t sum(out_t * R_t) + sum(h_T * G), for a GRU starting from h0.
 */
function reference(seed: number, xs: Tensor[], R: Tensor[] | null, G: Tensor, h0: Tensor) {
  const m = gru(seed);
  const leaf = h0.clone();
  leaf.requiresGrad = true;
  // The module holds a handle on its initial state: through an op, the gradient still reaches the leaf.
  m.userPrevOutput = leaf.mul(1);
  const outs = xs.map((x) => m.forward(x) as Tensor);
  const roots = [outs[outs.length - 1]!, ...(R ? outs : [])];
  const seeds = [G, ...(R ?? [])];
  const params = m.parameters()[0];
  const grads = vjp(roots, seeds, [leaf, ...params]);
  expect(grads.every((g) => g !== null)).toBe(true);
  const [gh0, ...gp] = grads.map((g) => arr(g!));
  // A vacuous comparison (everything zero) would prove nothing.
  expect(gp.flat().some((v) => Math.abs(v) > 1e-6)).toBe(true);
  return { gh0: gh0!, gp };
}

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

describe('the rest of the state API', () => {
  it('steps older than the kept ones get a zero gradInput and count as backward calls', () => {
    const rho = 2;
    const T = 4;
    const m = gru(1, rho);
    const xs = inputs(3, T);
    for (const x of xs) m.forward(x);
    manualSeed(5);
    const gos = xs.map(() => randn([N, H], f64));
    const gIn = [...xs.keys()].reverse().map((t) => arr(m.backward(xs[t]!, gos[t]!) as Tensor));
    // The two newest steps have a gradient, the two older ones zeros of the input's shape.
    expect(gIn[0]!.some((v) => v !== 0) && gIn[1]!.some((v) => v !== 0)).toBe(true);
    expect(gIn[2]).toEqual(new Array(N * D).fill(0));
    expect(gIn[3]).toEqual(new Array(N * D).fill(0));
    expect(() => m.backward(xs[0]!, gos[0]!)).toThrow(
      'called 5 times but there were only 4 forward step(s) since forget()',
    );
  });

  it('backward refuses a gradOutput with another structure than the step output', () => {
    const m = gru(1);
    const x = inputs(3, 1)[0]!;
    m.forward(x);
    const g = zeros([N, H], f64);
    expect(() => m.backward(x, [g, g])).toThrow(
      "backward: gradOutput is {[2, 4] float64, [2, 4] float64}, expected the step output's [2, 4] float64",
    );
    expect(() => m.backward(x, zeros([N, H + 1], f64))).toThrow(
      "backward: gradOutput is [2, 5] float64, expected the step output's [2, 4] float64",
    );
  });

  it('gradPrevOutput is set only once the step-wise backward reaches the first step', () => {
    const T = 3;
    const m = gru(2);
    const xs = inputs(4, T);
    for (const x of xs) m.forward(x);
    for (let t = T - 1; t >= 0; t--) {
      expect(m.gradPrevOutput, `before the backward of step ${t}`).toBeNull();
      m.backward(xs[t]!, zeros([N, H], f64).add(1));
    }
    expect(m.gradPrevOutput).not.toBeNull();
  });

  it('forget() starts afresh, also when a cut was due: the graph reaches the initial state again', () => {
    const T = 3;
    tidy(() => {
      manualSeed(7);
      const G = randn([N, H], f64);
      const h0 = randn([N, H], f64);
      const xs = inputs(8, T);
      const ref = reference(11, xs, null, G, h0);
      const m = gru(11, T); // rho = T: after T steps the next one would start from a detached state
      const leaf = h0.clone();
      leaf.requiresGrad = true;
      m.userPrevOutput = leaf.mul(1);
      for (const x of xs) m.forward(x);
      m.forget();
      const outs = xs.map((x) => m.forward(x) as Tensor);
      const [g] = vjp([outs[T - 1]!], [G], [leaf]);
      expect(g, 'the initial state is on the graph').not.toBeNull();
      expectClose([arr(g!)], [ref.gh0], TOL, 'gradient of the initial state');
    });
  });

  it("stacked recurrent modules: the step-wise backward carries each one's state gradient (as a Sequencer)", () => {
    const T = 3;
    const build = () => {
      manualSeed(13);
      return new nn.Sequential().add(new nn.GRU(D, H)).add(new nn.GRU(H, H)).double();
    };
    const xs = inputs(14, T);
    manualSeed(15);
    const R = xs.map(() => randn([N, H], f64));
    const stepwise = new nn.Recursor(build());
    for (const x of xs) stepwise.forward(x);
    const gIn: number[][] = [];
    for (let t = T - 1; t >= 0; t--) gIn[t] = arr(stepwise.backward(xs[t]!, R[t]!) as Tensor);
    const whole = new nn.Sequencer(build());
    whole.forward(xs);
    const wIn = (whole.backward(xs, R) as Tensor[]).map(arr);
    expectClose(
      stepwise.parameters()[1].map(arr),
      whole.parameters()[1].map(arr),
      TOL,
      'parameter gradients',
    );
    expectClose(gIn, wIn, TOL, 'gradInputs');
  });

  it('a training iteration with every state hook leaves no tensor behind', () => {
    const m = gru(2, 3);
    const xs = inputs(4, 5);
    const G = randn([N, H], f64);
    const h = randn([N, H], f64);
    const round = () =>
      tidy(() => {
        m.setHiddenState(h);
        m.setHiddenState(h); // replaces the initial state
        for (const x of xs.slice(0, 2)) m.forward(x);
        m.setHiddenState(h); // replaces the state mid-sequence
        for (const x of xs.slice(2)) m.forward(x);
        m.setGradHiddenState(G);
        m.setGradHiddenState(G); // replaces the gradient
        for (let t = 4; t >= 0; t--) m.backward(xs[t]!, zeros([N, H], f64));
        m.forget();
        m.setHiddenState(null);
      });
    round(); // the first round allocates what stays (gradients of the parameters)
    const before = memory().tensors;
    round();
    expect(memory().tensors).toBe(before);
  });

  it('setHiddenState mid-sequence sets where the next step starts, not the initial state of the next sequence', () => {
    const xs = inputs(5, 3);
    manualSeed(9);
    const h = randn([N, H], f64);
    const m = gru(4);
    m.forward(xs[0]!);
    m.setHiddenState(h);
    const fromH = arr(m.forward(xs[1]!) as Tensor);
    const ref = gru(4);
    ref.userPrevOutput = h;
    expect(fromH).toEqual(arr(ref.forward(xs[1]!) as Tensor));
    m.forget();
    expect(arr(m.forward(xs[2]!) as Tensor)).toEqual(arr(gru(4).forward(xs[2]!) as Tensor));
  });

  it('maxBPTTstep sets rho here and inside (at least 1), and training then keeps that many steps', () => {
    const inner = new nn.GRU(D, H);
    const outer = new nn.Recursor(new nn.Sequential().add(inner).add(new nn.Linear(H, 2))).double();
    outer.maxBPTTstep(3);
    expect([outer.rho, inner.rho]).toEqual([3, 3]);
    outer.maxBPTTstep(0);
    expect([outer.rho, inner.rho]).toEqual([1, 1]);
    const m = gru(1).maxBPTTstep(2);
    for (const x of inputs(2, 5)) m.forward(x);
    expect(m.getHiddenState(2)).not.toBeNull();
    expect(() => m.getHiddenState(1)).toThrow('step 1 is not kept: after 5 forward step(s) steps 2..4 are');
  });

  it('setGradHiddenState on an LSTM takes {h, c} and refuses a lone tensor in a whole-sequence backward', () => {
    manualSeed(3);
    const m = new nn.FastLSTM(D, H).double();
    const seq = new nn.Sequencer(m);
    const xs = inputs(2, 2);
    seq.forward(xs);
    m.setGradHiddenState(zeros([N, H], f64));
    expect(() =>
      seq.backward(
        xs,
        xs.map(() => zeros([N, H], f64)),
      ),
    ).toThrow(
      "nn.FastLSTM.setGradHiddenState: the gradient is [2, 4] float64, expected the last state's {[2, 4] float64, [2, 4] float64}",
    );
    seq.forward(xs);
    m.setGradHiddenState([zeros([N, H], f64), zeros([N, H + 1], f64)]);
    expect(() =>
      seq.backward(
        xs,
        xs.map(() => zeros([N, H], f64)),
      ),
    ).toThrow(
      "nn.FastLSTM.setGradHiddenState: the gradient is {[2, 4] float64, [2, 5] float64}, expected the last state's {[2, 4] float64, [2, 4] float64}",
    );
  });

  it('defaults: remembers nothing, masks nothing; remember() means both; maskZero checks nInputDim', () => {
    const m = gru(1);
    expect(m.rememberMode).toBe('neither');
    expect(m.maskzero).toBe(false);
    // Without maskZero an all-zero input row is an ordinary input (the biases make its output non-zero).
    const out = arr(m.forward(zeros([N, D], f64)) as Tensor);
    expect(out.some((v) => v !== 0)).toBe(true);
    // updateOutput is forward (one step).
    expect(arr(m.updateOutput(zeros([N, D], f64)) as Tensor)).toEqual(arr(m.getHiddenState(1) as Tensor));
    m.remember();
    for (const train of [true, false]) {
      if (train) m.training();
      else m.evaluate();
      expect(m.remembering).toBe(true);
    }
    expect(gru(1).maskZero().maskzero).toBe(true);
    expect(gru(1).maskZero(0).maskzero).toBe(true);
    for (const bad of [-1, 1.5]) {
      expect(() => gru(1).maskZero(bad)).toThrow(
        `maskZero: nInputDim must be a non-negative integer, got ${bad}`,
      );
    }
  });

  it('clearState() forgets the steps and the gradient of the initial state', () => {
    const m = gru(1);
    const xs = inputs(2, 2);
    for (const x of xs) m.forward(x);
    for (let t = 1; t >= 0; t--) m.backward(xs[t]!, zeros([N, H], f64).add(1));
    expect(m.gradPrevOutput).not.toBeNull();
    m.clearState();
    expect([m.step, m.gradPrevOutput]).toEqual([0, null]);
    expect(() => m.backward(xs[0]!, zeros([N, H], f64))).toThrow('called before forward');
  });
});
