import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, add, manualSeed, memory, mse, nn, randn, tanh, tidy } from '@webrnn/rnn';

const f64 = { dtype: 'float64' as const };

/** A minimal Elman RNN written against the AbstractRecurrent contract: h = tanh(W x + U h). */
class Elman extends nn.AbstractRecurrent {
  readonly i2h: nn.Linear;
  readonly h2h: nn.Linear;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    rho?: number,
  ) {
    super(rho);
    this.i2h = new nn.Linear(inputSize, hiddenSize);
    this.h2h = new nn.Linear(hiddenSize, hiddenSize, false);
    this.add(this.i2h).add(this.h2h);
  }
  protected override stepForward(input: Activity, prev: Activity | null) {
    const h = tanh(add(this.i2h.forward(input as Tensor), this.h2h.forward(prev as Tensor)));
    return { output: h, state: h };
  }
  protected override initialState(input: Activity) {
    const x = input as Tensor;
    return randn([x.shape[0]!, this.hiddenSize], f64).mul(0);
  }
}

function build(seed = 3) {
  manualSeed(seed);
  return new nn.Sequential().add(new Elman(3, 4)).add(new nn.Linear(4, 2)).double();
}

const grads = (m: { parameters(): [Tensor[], Tensor[]] }) =>
  m.parameters()[1].map((g) => Array.from(g.dataSync()));

function close(a: number[][], b: number[][]) {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, 10)));
}

describe('AbstractRecurrent, Recursor and Sequencer on the tape', () => {
  const T = 4;
  manualSeed(7);
  const xs = Array.from({ length: T }, () => randn([2, 3], f64));
  const ys = Array.from({ length: T }, () => randn([2, 2], f64));

  it('step-wise Recursor backward, Sequencer backward and tape-style loss.backward agree', () => {
    // 1. Recursor, forward each step then backward in reverse order.
    const a = new nn.Recursor(build());
    const crit = new nn.MSECriterion();
    const outs = xs.map((x) => a.forward(x));
    const gIn: number[][] = [];
    for (let t = T - 1; t >= 0; t--) {
      crit.forward(outs[t]!, ys[t]!);
      gIn[t] = Array.from((a.backward(xs[t]!, crit.backward(outs[t]!, ys[t]!)) as Tensor).dataSync());
    }
    // 2. Sequencer over the same steps, with SequencerCriterion.
    const b = new nn.Sequencer(build());
    const sc = new nn.SequencerCriterion(new nn.MSECriterion());
    const out = b.forward(xs);
    sc.forward(out, ys);
    const gB = b.backward(xs, sc.backward(out, ys)) as Tensor[];
    // 3. Tape-style.
    const c = new nn.Sequencer(build());
    const outC = c.forward(xs) as Tensor[];
    let loss = mse(outC[0]!, ys[0]!);
    for (let t = 1; t < T; t++) loss = add(loss, mse(outC[t]!, ys[t]!));
    loss.backward();
    close(grads(a), grads(b));
    close(grads(b), grads(c));
    close(
      gIn,
      gB.map((g) => Array.from(g.dataSync())),
    );
  });

  it('rho truncates BPTT: with rho 1 each step sees only its own gradient', () => {
    const a = new nn.Recursor(build(), 1);
    const outs = xs.map((x) => a.forward(x));
    const g = randn([2, 2], f64);
    for (let t = T - 1; t >= 0; t--) a.backward(xs[t]!, t === T - 1 ? g : g.mul(0));
    // Equivalent: only the last step, with the state before it treated as a constant.
    const b = build();
    const r = new nn.Recursor(b, 1);
    for (let t = 0; t < T; t++) r.forward(xs[t]!);
    b.zeroGradParameters();
    r.backward(xs[T - 1]!, g);
    close(grads(a), grads(r));
    expect(outs.length).toBe(T);
  });

  it('evaluation remembers nothing but the last state, and refuses backward', () => {
    const a = new nn.Recursor(build()).evaluate();
    const before = memory().tensors;
    for (let i = 0; i < 50; i++)
      tidy(() => {
        a.forward(xs[i % T]!);
      });
    expect(memory().tensors - before).toBeLessThanOrEqual(2);
    expect(() => a.backward(xs[0]!, ys[0]!)).toThrow(/evaluation mode/);
  });

  it('training steps keep memory flat across sequences', () => {
    const m = new nn.Sequencer(build());
    const sc = new nn.SequencerCriterion(new nn.MSECriterion());
    const step = () =>
      tidy(() => {
        m.zeroGradParameters();
        const out = m.forward(xs);
        sc.forward(out, ys);
        m.backward(xs, sc.backward(out, ys));
        m.updateParameters(0.05);
      });
    step();
    const m0 = memory();
    for (let i = 0; i < 30; i++) step();
    const m1 = memory();
    expect(m1.tensors).toBe(m0.tensors);
    expect(m1.bytes).toBe(m0.bytes);
  });

  it('prints decorators like Torch', () => {
    const s = new nn.Sequencer(new nn.Sequential().add(new nn.Linear(2, 2)));
    expect(s.toString()).toBe(
      'nn.Sequencer @ nn.Recursor @ nn.Sequential {\n  [input -> (1) -> output]\n  (1): nn.Linear(2 -> 2)\n}',
    );
  });

  it('getHiddenState(step) gives any kept step, -1 the initial state, and names the steps it keeps', () => {
    manualSeed(8);
    const lstm = new nn.FastLSTM(2, 3, 3).double();
    const outs = [0, 1, 2, 3, 4].map(() => lstm.forward(randn([1, 2], f64)) as Tensor);
    for (const t of [2, 3, 4]) {
      const [h] = lstm.getHiddenState(t) as Tensor[];
      expect(Array.from(h!.dataSync())).toEqual(Array.from(outs[t]!.dataSync()));
    }
    // rho = 3 keeps steps 2..4, and the state they started from (after step 1).
    const [h1] = lstm.getHiddenState(1) as Tensor[];
    expect(Array.from(h1!.dataSync())).toEqual(Array.from(outs[1]!.dataSync()));
    expect(() => lstm.getHiddenState(0)).toThrow(
      'nn.FastLSTM.getHiddenState: step 0 is not kept: after 5 forward step(s) steps 1..4 are',
    );
    lstm.forget();
    lstm.forward(randn([1, 2], f64));
    const [h0] = lstm.getHiddenState(-1) as Tensor[];
    expect(Array.from(h0!.dataSync())).toEqual([0, 0, 0]);
  });
});
