/**
 * The rest of AbstractRecurrent's state API, each against what Torch's rnn documents: zero gradInputs beyond rho,
 * gradOutput checks, when gradPrevOutput appears, forget() and setHiddenState, maxBPTTstep, LSTM state
 * gradients, defaults and clearState; and that the hooks leak nothing.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randn, tidy, vjp, zeros } from '@webrnn/rnn';
import { D, H, N, TOL, gru, inputs, reference } from './helpers/gruState.js';
import { arr, expectClose, f64 } from './recurrentHelpers.js';

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
    expect(() => m.backward(x, [g, g] as never)).toThrow(
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
