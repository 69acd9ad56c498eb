import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randn, tidy } from '@webrnn/rnn';
import {
  type Mat,
  block,
  expectClose,
  f64,
  fastWeights,
  fdInputGrads,
  fdParamGrads,
  flat,
  loadPyTorchLSTM,
  lstmWeights,
  mat,
  randomMat,
  randomSequence,
  refFastLSTM,
  refLSTM,
  refPyTorchLSTM,
  rows,
  setParam,
  tapeStyle,
  torchStyle,
  zerosM,
} from './lstmHelpers.js';

const I = 3;
const H = 4;
const N = 2;

const sequence = (T: number, seed: number, n = N) => randomSequence(T, seed, n, I, H);

function fastLSTM(seed = 1, rho?: number) {
  manualSeed(seed);
  return new nn.FastLSTM(I, H, rho).double();
}

function lstm(cell2gate: boolean, seed = 2) {
  manualSeed(seed);
  return new nn.LSTM(I, H, undefined, cell2gate).double();
}

describe('nn.FastLSTM', () => {
  it('matches a plain-number reference of Torch FastLSTM over 5 steps', () => {
    const m = fastLSTM();
    const { xs } = sequence(5, 11);
    const w = fastWeights(m);
    let h: Mat = zerosM(N, H);
    let c: Mat = zerosM(N, H);
    m.forget();
    for (const x of xs) {
      const ref = refFastLSTM(rows(x), h, c, w.W, w.b, w.U);
      ({ h, c } = ref);
      expectClose(rows(m.forward(x) as Tensor), h, 1e-12, 'output');
      expectClose(rows(m.cell!), c, 1e-12, 'cell');
    }
  });

  it('has Torch layout, initialisation, printing and children', () => {
    manualSeed(3);
    const m = new nn.FastLSTM(300, 200);
    expect(m.describe()).toBe('nn.FastLSTM(300 -> 200)');
    expect(m.children()).toEqual([m.i2g, m.o2g]);
    expect(m.i2g.weight.shape).toEqual([800, 300]);
    expect(m.i2g.bias!.shape).toEqual([800]);
    expect(m.o2g.weight.shape).toEqual([800, 200]);
    expect(m.o2g.bias).toBeNull();
    const [params] = m.parameters();
    expect(params).toEqual([m.i2g.weight, m.i2g.bias, m.o2g.weight]);
    const within = (t: Tensor, s: number) => flat(t).every((v) => Math.abs(v) <= s);
    expect(within(m.i2g.weight, 1 / Math.sqrt(300))).toBe(true);
    expect(within(m.i2g.bias!, 1 / Math.sqrt(300))).toBe(true);
    expect(within(m.o2g.weight, 1 / Math.sqrt(200))).toBe(true);
    expect(flat(m.o2g.weight).reduce((a, v) => Math.max(a, Math.abs(v)), 0)).toBeGreaterThan(
      0.9 / Math.sqrt(200),
    );
    expect(m.rho).toBe(9999);
    const [flatP] = m.getParameters();
    expect(flatP.shape).toEqual([800 * 300 + 800 + 800 * 200]);
    // reset(stdv) re-initialises the children with that standard deviation: Torch's bound stdv * sqrt(3).
    m.reset(0.01);
    const bound = 0.01 * Math.sqrt(3);
    expect(within(m.i2g.weight, bound) && within(m.o2g.weight, bound)).toBe(true);
    expect(within(m.i2g.weight, 0.01)).toBe(false);
  });

  it('Torch-style backward, tape-style loss.backward() and central differences agree (float64, 3 steps)', () => {
    const m = fastLSTM(4);
    const { xs, rs } = sequence(3, 12);
    const a = torchStyle(m, xs, rs);
    const b = tapeStyle(m, xs, rs);
    expectClose(a.outs, b.outs, 1e-12, 'outputs');
    expectClose(a.grads, b.grads, 1e-12, 'parameter gradients');
    expectClose(a.gradIns, b.gradIns, 1e-12, 'input gradients');
    expectClose(a.grads, fdParamGrads(m, xs, rs), 1e-7, 'parameters vs central differences');
    expectClose(a.gradIns, fdInputGrads(m, xs, rs), 1e-7, 'inputs vs central differences');
  });

  it('one sample [inputSize] steps like a batch of one', () => {
    const m = fastLSTM(5);
    const { xs } = sequence(3, 13, 1);
    m.forget();
    const batched = xs.map((x) => rows(m.forward(x) as Tensor));
    m.forget();
    const single = xs.map((x) => {
      const y = m.forward(x.reshape([I])) as Tensor;
      expect(y.shape).toEqual([H]);
      return rows(y);
    });
    expectClose(single, batched, 1e-14);
    expect(m.cell!.shape).toEqual([H]);
  });

  it('maps PyTorch weights (gates i, f, g, o; two biases) into its layout (i, z, f, o; one bias)', () => {
    const r = randomMat(7);
    const Wih = r.m(4 * H, I, 0.5);
    const Whh = r.m(4 * H, H, 0.5);
    const bih = r.v(4 * H, 0.5);
    const bhh = r.v(4 * H, 0.5);
    const h0 = r.m(N, H);
    const c0 = r.m(N, H);
    const xs = Array.from({ length: 5 }, () => r.m(N, I));
    const m = new nn.FastLSTM(I, H).double();
    loadPyTorchLSTM(m, Wih, Whh, bih, bhh);
    m.userPrevOutput = mat(h0);
    m.userPrevCell = mat(c0);
    m.forget();
    let h = h0;
    let c = c0;
    for (const x of xs) {
      ({ h, c } = refPyTorchLSTM(x, h, c, Wih, Whh, bih, bhh));
      expectClose(rows(m.forward(mat(x)) as Tensor), h, 1e-12);
    }
  });

  it('starts from userPrevOutput / userPrevCell and reports gradPrevOutput / gradPrevCell', () => {
    const m = fastLSTM(6);
    const { xs, rs } = sequence(3, 14);
    manualSeed(15);
    const h0 = randn([N, H], f64);
    const c0 = randn([N, H], f64);
    m.userPrevOutput = h0;
    m.userPrevCell = c0;
    const w = fastWeights(m);
    let h = rows(h0);
    let c = rows(c0);
    const a = torchStyle(m, xs, rs);
    xs.forEach((x, t) => {
      ({ h, c } = refFastLSTM(rows(x), h, c, w.W, w.b, w.U));
      expectClose(a.outs[t], h, 1e-12);
    });
    // The initial state's gradients against central differences on h0 and c0.
    const gh = rows(m.gradPrevOutput!);
    const gc = rows(m.gradPrevCell!);
    expect(m.userGradPrevOutput).toBe(m.gradPrevOutput);
    expectClose(gh, fdState(m, xs, rs, h0, c0, 0), 1e-7, 'gradPrevOutput');
    expectClose(gc, fdState(m, xs, rs, h0, c0, 1), 1e-7, 'gradPrevCell');
    // Only the output given: the cell starts from zeros.
    m.userPrevCell = null;
    expect(flat(m.userPrevCell!).every((v) => v === 0)).toBe(true);
    expectClose(rows(m.userPrevOutput!), rows(h0), 0);
    m.userPrevOutput = null;
    expect(m.userState).toBeNull();
    // Only the cell given: the output starts from zeros.
    m.userPrevCell = c0;
    expect(flat(m.userPrevOutput!).every((v) => v === 0)).toBe(true);
    m.userPrevCell = null;
    expect(m.userState).toBeNull();
  });

  it('works inside a Sequencer (one vjp per sequence) like step-wise Torch backward', () => {
    const m = fastLSTM(7);
    const { xs, rs } = sequence(4, 16);
    const a = torchStyle(m, xs, rs);
    const seq = new nn.Sequencer(m);
    m.zeroGradParameters();
    const outs = seq.forward(xs) as Tensor[];
    const gi = seq.backward(xs, rs) as Tensor[];
    expectClose(outs.map(rows), a.outs, 1e-12);
    expectClose(gi.map(rows), a.gradIns, 1e-12);
    expectClose(m.parameters()[1].map(flat), a.grads, 1e-12);
  });

  it('steps inside a Recursor(Sequential) with Torch-style backward like tape-style BPTT', () => {
    const build = () => {
      manualSeed(19);
      return new nn.Sequential().add(new nn.FastLSTM(I, H)).add(new nn.Linear(H, 2)).double();
    };
    const { xs } = sequence(3, 20);
    manualSeed(21);
    const gs = xs.map(() => randn([N, 2], f64));
    const a = new nn.Recursor(build());
    const outs = xs.map((x) => rows(a.forward(x) as Tensor));
    for (let t = xs.length - 1; t >= 0; t--) a.backward(xs[t]!, gs[t]!);
    const b = new nn.Recursor(build());
    const ys = xs.map((x) => b.forward(x) as Tensor);
    let loss = ys[0]!.mul(gs[0]!).sum();
    for (let t = 1; t < ys.length; t++) loss = loss.add(ys[t]!.mul(gs[t]!).sum());
    loss.backward();
    expectClose(ys.map(rows), outs, 1e-12);
    expectClose(b.parameters()[1].map(flat), a.parameters()[1].map(flat), 1e-12);
  });

  it('runs in float32 after .float() and keeps its state in the input dtype', () => {
    const m = fastLSTM(22).float();
    manualSeed(23);
    const y = m.forward(randn([N, I])) as Tensor;
    expect(y.dtype).toBe('float32');
    expect(m.cell!.dtype).toBe('float32');
  });

  it('keeps memory flat over training sequences', () => {
    const m = fastLSTM(8);
    const { xs, rs } = sequence(4, 17);
    const run = () =>
      tidy(() => {
        torchStyle(m, xs, rs);
        m.updateParameters(0.01);
      });
    run();
    const before = memory();
    for (let i = 0; i < 5; i++) run();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
  });

  it('clone() copies the weights, sharedClone() shares them', () => {
    const m = fastLSTM(9);
    const c = m.clone();
    const s = m.sharedClone();
    expect(c.i2g.weight).not.toBe(m.i2g.weight);
    expectClose(flat(c.i2g.weight), flat(m.i2g.weight), 0);
    expect(s.i2g.weight).toBe(m.i2g.weight);
    expect(s.parameters()[0]).toEqual(m.parameters()[0]);
    const { xs } = sequence(2, 18);
    m.forget();
    c.forget();
    expectClose(
      xs.map((x) => rows(c.forward(x) as Tensor)),
      xs.map((x) => rows(m.forward(x) as Tensor)),
      0,
    );
  });
});

describe('nn.LSTM (Element-research, peepholes via cell2gate)', () => {
  for (const cell2gate of [true, false]) {
    it(`matches a plain-number reference over 5 steps (cell2gate = ${cell2gate})`, () => {
      const m = lstm(cell2gate);
      const { xs } = sequence(5, 21);
      const g = lstmWeights(m);
      let h: Mat = zerosM(N, H);
      let c: Mat = zerosM(N, H);
      m.forget();
      for (const x of xs) {
        ({ h, c } = refLSTM(rows(x), h, c, g));
        expectClose(rows(m.forward(x) as Tensor), h, 1e-12, 'output');
        expectClose(rows(m.cell!), c, 1e-12, 'cell');
      }
    });

    it(`gradients: Torch style = tape = central differences (cell2gate = ${cell2gate}, float64, 3 steps)`, () => {
      const m = lstm(cell2gate, 3);
      const { xs, rs } = sequence(3, 22);
      const a = torchStyle(m, xs, rs);
      const b = tapeStyle(m, xs, rs);
      expectClose(a.grads, b.grads, 1e-12);
      expectClose(a.gradIns, b.gradIns, 1e-12);
      expectClose(a.grads, fdParamGrads(m, xs, rs), 1e-7, 'parameters vs central differences');
      expectClose(a.gradIns, fdInputGrads(m, xs, rs), 1e-7, 'inputs vs central differences');
    });
  }

  it('lists its parameters in the order of Torch lstm:parameters() (forget, input, hidden, output)', () => {
    manualSeed(4);
    const m = new nn.LSTM(5, 6);
    expect(m.describe()).toBe('nn.LSTM(5 -> 6)');
    expect(m.cell2gate).toBe(true);
    expect(m.rho).toBe(9999);
    const order = [m.forgetGate, m.inputGate, m.hiddenLayer, m.outputGate].flatMap((g) => [
      g.i2g.weight,
      g.i2g.bias,
      g.o2g.weight,
      ...(g.c2g ? [g.c2g.weight] : []),
    ]);
    expect(m.parameters()[0]).toEqual(order);
    expect(order.map((p) => p!.shape)).toEqual([
      ...[[6, 5], [6], [6, 6], [6]],
      ...[[6, 5], [6], [6, 6], [6]],
      ...[[6, 5], [6], [6, 6]],
      ...[[6, 5], [6], [6, 6], [6]],
    ]);
    expect(m.hiddenLayer.c2g).toBeNull();
    expect(new nn.LSTM(5).outputSize).toBe(5);
    expect(new nn.LSTM(5, 6, 3, false).parameters()[0].length).toBe(12);
  });

  it('with cell2gate = false equals FastLSTM with copied weights (outputs and gradients)', () => {
    const fast = fastLSTM(10);
    const slow = lstm(false, 11);
    // Element-research's own FastLSTM test: gate k of i2g/o2g is rows k*H..(k+1)*H-1, k = input, hidden, forget, output.
    const w = fastWeights(fast);
    [slow.inputGate, slow.hiddenLayer, slow.forgetGate, slow.outputGate].forEach((g, k) => {
      setParam(g.i2g.weight, block(w.W, k, H));
      setParam(g.i2g.bias!, block(w.b, k, H));
      setParam(g.o2g.weight, block(w.U, k, H));
    });
    const { xs, rs } = sequence(4, 23);
    const a = torchStyle(fast, xs, rs);
    const b = torchStyle(slow, xs, rs);
    expectClose(b.outs, a.outs, 1e-12, 'outputs');
    expectClose(b.gradIns, a.gradIns, 1e-12, 'gradInputs');
    // Gather the LSTM's gradients into FastLSTM's layout.
    const gradOf = (t: Tensor) => rows(t.grad!);
    const gates = [slow.inputGate, slow.hiddenLayer, slow.forgetGate, slow.outputGate];
    expectClose(gates.flatMap((g) => gradOf(g.i2g.weight)).flat(), a.grads[0], 1e-12, 'i2g weight');
    expectClose(
      gates.flatMap((g) => flat(g.i2g.bias!.grad!)),
      a.grads[1],
      1e-12,
      'i2g bias',
    );
    expectClose(gates.flatMap((g) => gradOf(g.o2g.weight)).flat(), a.grads[2], 1e-12, 'o2g weight');
  });
});

// ---- helpers ---------------------------------------------------------------------------------------------------

/** Central differences of the loss with respect to h0 (part 0) or c0 (part 1). */
function fdState(
  m: InstanceType<typeof nn.FastLSTM>,
  xs: Tensor[],
  rs: Tensor[],
  h0: Tensor,
  c0: Tensor,
  part: 0 | 1,
): Mat {
  const base = part === 0 ? h0 : c0;
  const data = Array.from(base.dataSync());
  const eps = 1e-6;
  const loss = (v: number[]) =>
    tidy(() => {
      const moved = mat(Array.from({ length: N }, (_, n) => v.slice(n * H, (n + 1) * H)));
      if (part === 0) m.userPrevOutput = moved;
      else m.userPrevCell = moved;
      m.forget();
      let total = 0;
      xs.forEach((x, t) => {
        total += flat((m.forward(x) as Tensor).mul(rs[t]!)).reduce((s, v) => s + v, 0);
      });
      return total;
    });
  const g = data.map((_, e) => {
    const at = (d: number) => loss(data.map((v, k) => (k === e ? v + d : v)));
    return (at(eps) - at(-eps)) / (2 * eps);
  });
  if (part === 0) m.userPrevOutput = h0;
  else m.userPrevCell = c0;
  return Array.from({ length: N }, (_, n) => g.slice(n * H, (n + 1) * H));
}
