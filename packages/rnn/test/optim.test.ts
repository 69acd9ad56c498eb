import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  manualSeed,
  matmul,
  memory,
  mul,
  nn,
  optim,
  randn,
  sum,
  tensor,
  tidy,
} from '@webrnn/rnn';

/**
 * The optimisers against hand-rolled references of Torch's optim.sgd / adam / rmsprop on a fixed quadratic, in
 * class form (gradients from the tape in `.grad`) and functional form (`optim.sgd(feval, x, config, state)`);
 * clipGradNorm; parameter lists vs getParameters vectors; a regression that learns; flat memory.
 */

const f64 = { dtype: 'float64' as const };
const A = [1, 2, 0.5, 3];
const B = [0.3, -1, 2, 0.1];
const X0 = [1, -2, 0.5, 4];
/** f(x) = sum(a x^2 / 2 + b x); df/dx = a x + b. */
const gradAt = (x: readonly number[]) => x.map((v, i) => A[i]! * v + B[i]!);
const a64 = () => tensor(A, f64);
const b64 = () => tensor(B, f64);

/** The quadratic's gradient put in x.grad by the tape. */
function backwardQuadratic(x: Tensor): void {
  tidy(() => sum(mul(a64(), mul(x, x)).mul(0.5).add(mul(b64(), x))).backward());
}

// ---- hand-rolled references (plain numbers, Torch's formulas) ---------------------------------------------

function sgdRef(steps: number, c: optim.SGDConfig): number[] {
  const lr = c.learningRate ?? c.lr ?? 1e-3;
  const mom = c.momentum ?? 0;
  const damp = c.dampening ?? mom;
  const wd = c.weightDecay ?? 0;
  const lrd = c.learningRateDecay ?? 0;
  const x = [...X0];
  let buf: number[] | null = null;
  for (let t = 0; t < steps; t++) {
    let g = gradAt(x).map((v, i) => v + wd * x[i]!);
    if (mom !== 0) {
      buf = buf ? buf.map((b, i) => mom * b + (1 - damp) * g[i]!) : [...g];
      g = c.nesterov ? g.map((v, i) => v + mom * buf![i]!) : buf;
    }
    const clr = lr / (1 + t * lrd);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! - clr * g[i]!;
  }
  return x;
}

function adamRef(steps: number, c: optim.AdamConfig): number[] {
  const lr = c.learningRate ?? c.lr ?? 1e-3;
  const [b1, b2, eps, wd] = [c.beta1 ?? 0.9, c.beta2 ?? 0.999, c.epsilon ?? 1e-8, c.weightDecay ?? 0];
  const x = [...X0];
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    const g = gradAt(x).map((gv, i) => gv + wd * x[i]!);
    const step = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      x[i] = x[i]! - (step * m[i]!) / (Math.sqrt(v[i]!) + eps);
    }
  }
  return x;
}

function rmspropRef(steps: number, c: optim.RMSpropConfig): number[] {
  const lr = c.learningRate ?? c.lr ?? 1e-2;
  const [alpha, eps, wd] = [c.alpha ?? 0.99, c.epsilon ?? 1e-8, c.weightDecay ?? 0];
  const x = [...X0];
  const m = x.map(() => c.initialMean ?? 0);
  for (let t = 0; t < steps; t++) {
    const g = gradAt(x).map((gv, i) => gv + wd * x[i]!);
    for (let i = 0; i < x.length; i++) {
      m[i] = alpha * m[i]! + (1 - alpha) * g[i]! * g[i]!;
      x[i] = x[i]! - (lr * g[i]!) / (Math.sqrt(m[i]!) + eps);
    }
  }
  return x;
}

const expectNear = (got: ArrayLike<number>, want: readonly number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));
};

/** Run `steps` class-form steps with gradients from the tape. */
function runClass(make: (x: Tensor) => optim.Optimizer<object, object>, steps: number): Float64Array {
  const x = tensor(X0, f64).requiresGrad_();
  const opt = make(x);
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    backwardQuadratic(x);
    opt.step();
  }
  opt.dispose();
  return x.dataSync() as Float64Array;
}

/** Run `steps` functional steps (Torch's feval returning [f(x), df/dx]). */
function runFunctional(
  fn: (feval: optim.Feval, x: Tensor, config: never, state: object) => unknown,
  config: object,
  steps: number,
): Float64Array {
  const x = tensor(X0, f64);
  const state = {};
  for (let t = 0; t < steps; t++) {
    tidy(() =>
      fn(
        (p) => {
          const xs = Array.from(p.dataSync());
          return [0, tensor(gradAt(xs), f64)];
        },
        x,
        config as never,
        state,
      ),
    );
  }
  optim.disposeState(state);
  return x.dataSync() as Float64Array;
}

describe('optim.SGD', () => {
  const configs: [string, optim.SGDConfig][] = [
    ['plain', { learningRate: 0.1 }],
    ['momentum (dampening defaults to the momentum, as Torch)', { lr: 0.1, momentum: 0.9 }],
    ['nesterov', { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true }],
    [
      'weight decay, dampening and learning-rate decay',
      { lr: 0.1, momentum: 0.5, dampening: 0.1, weightDecay: 0.2, learningRateDecay: 0.3 },
    ],
  ];
  it.each(configs)('%s: class and functional forms match the reference over 6 steps', (_n, c) => {
    const want = sgdRef(6, c);
    expectNear(
      runClass((x) => new optim.SGD(x, c), 6),
      want,
    );
    expectNear(runFunctional(optim.sgd as never, c, 6), want);
  });

  it("refuses Nesterov with Torch's default dampening, saying why", () => {
    const x = tensor([1], f64).requiresGrad_();
    x.grad = tensor([1], f64);
    expect(() => new optim.SGD(x, { momentum: 0.9, nesterov: true }).step()).toThrow(
      'optim.sgd: Nesterov momentum requires a momentum and zero dampening, got momentum 0.9 and dampening 0.9 (dampening defaults to the momentum, as in Torch: pass dampening: 0)',
    );
  });

  it('asks for the gradient vector of a getParameters() vector instead of silently doing nothing', () => {
    const [w] = model(1).getParameters();
    expect(() => new optim.SGD(w, { lr: 0.1 })).toThrow(
      `optim.SGD: parameter 0 of shape [${w.size}] has no .grad and is not a leaf that requires grad; for the vectors of getParameters() pass the gradient vector too: new optim.SGD(w, config, dw)`,
    );
  });

  it("leaves the caller's gradient alone and skips parameters without one", () => {
    const x = tensor([1, 2], f64).requiresGrad_();
    const y = tensor([3], f64).requiresGrad_();
    x.grad = tensor([1, 1], f64);
    new optim.SGD([x, y], { lr: 0.5, weightDecay: 1 }).step();
    expect(Array.from(x.dataSync())).toEqual([0, 0.5]);
    expect(Array.from(x.grad.dataSync())).toEqual([1, 1]);
    expect(Array.from(y.dataSync())).toEqual([3]);
  });
});

describe('optim.Adam and optim.RMSprop', () => {
  it.each([
    ['defaults', {}],
    ['custom', { lr: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1 }],
  ] as [string, optim.AdamConfig][])('Adam %s matches the reference over 8 steps', (_n, c) => {
    const want = adamRef(8, c);
    expectNear(
      runClass((x) => new optim.Adam(x, c), 8),
      want,
    );
    expectNear(runFunctional(optim.adam as never, c, 8), want);
  });

  it.each([
    ['defaults', {}],
    ['custom', { lr: 0.02, alpha: 0.9, epsilon: 1e-4, weightDecay: 0.05, initialMean: 1 }],
  ] as [string, optim.RMSpropConfig][])('RMSprop %s matches the reference over 8 steps', (_n, c) => {
    const want = rmspropRef(8, c);
    expectNear(
      runClass((x) => new optim.RMSprop(x, c), 8),
      want,
    );
    expectNear(runFunctional(optim.rmsprop as never, c, 8), want);
  });
});

describe('optim.clipGradNorm', () => {
  it('returns the global norm and rescales only above maxNorm', () => {
    const g1 = tensor([3, 0], f64);
    const g2 = tensor([[4]], f64);
    expect(optim.clipGradNorm([g1, g2], 10)).toBe(5);
    expect(Array.from(g1.dataSync())).toEqual([3, 0]);
    expect(optim.clipGradNorm([g1, g2], 1)).toBe(5);
    expectNear(g1.dataSync(), [0.6, 0]);
    expectNear(g2.dataSync(), [0.8]);
    expect(optim.clipGradNorm([g1, g2], 1)).toBeCloseTo(1, 12);
  });

  it('works on getParameters() gradient vectors and on parameter lists (their .grad)', () => {
    manualSeed(4);
    const m = new nn.Sequential()
      .add(new nn.Linear(3, 2))
      .add(new nn.Tanh())
      .add(new nn.Linear(2, 1))
      .double();
    const x = randn([4, 3], f64);
    m.forward(x);
    m.backward(x, randn([4, 1], f64).mul(100));
    const grads = m.parameters()[1];
    const want = Math.sqrt(
      grads.reduce((s, g) => s + (g.dataSync() as Float64Array).reduce((a, v) => a + v * v, 0), 0),
    );
    const [, flatGrad] = m.getParameters();
    expect(optim.clipGradNorm(flatGrad, 1e9)).toBeCloseTo(want, 9);
    expect(optim.clipGradNorm(m.parameters()[0], 0.5)).toBeCloseTo(want, 9);
    // The per-parameter gradients are views of the flat one: both see the clipping.
    expect(Math.sqrt((flatGrad.dataSync() as Float64Array).reduce((a, v) => a + v * v, 0))).toBeCloseTo(
      0.5,
      9,
    );
  });
});

// ---- training ----------------------------------------------------------------------------------------------

function model(seed: number) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(3, 8)).add(new nn.Tanh()).add(new nn.Linear(8, 1)).double();
}

function data(seed: number) {
  manualSeed(seed);
  const x = randn([32, 3], f64);
  const w = tensor([[1.5], [-2], [0.5]], f64);
  return { x, y: matmul(x, w).add(0.3) };
}

/** Torch-style steps: forward, criterion, backward through the module, then the optimiser. */
function trainStep(m: nn.Module, crit: nn.Criterion, x: Tensor, y: Tensor, update: () => void): number {
  return tidy(() => {
    m.zeroGradParameters();
    const out = m.forward(x);
    const l = crit.forward(out, y).itemSync();
    m.backward(x, crit.backward(out, y));
    update();
    return l;
  });
}

describe('training with the optimisers', () => {
  it('parameter lists, getParameters vectors and the functional form give identical models', () => {
    const { x, y } = data(1);
    const crit = new nn.MSECriterion();
    const cfg = { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-3 };
    const m1 = model(2);
    const o1 = new optim.SGD(m1.parameters()[0], cfg);
    const m2 = model(2);
    const [w2, dw2] = m2.getParameters();
    const o2 = new optim.SGD(w2, cfg, dw2);
    const m3 = model(2);
    const [w3, dw3] = m3.getParameters();
    const state = {};
    for (let t = 0; t < 10; t++) {
      trainStep(m1, crit, x, y, () => o1.step());
      trainStep(m2, crit, x, y, () => o2.step());
      tidy(() =>
        optim.sgd(
          () => {
            m3.zeroGradParameters();
            const out = m3.forward(x);
            const l = crit.forward(out, y);
            m3.backward(x, crit.backward(out, y));
            return [l, dw3];
          },
          w3,
          cfg,
          state,
        ),
      );
    }
    const p1 = m1.parameters()[0].flatMap((p) => Array.from(p.dataSync()));
    expect(Array.from(w2.dataSync())).toEqual(p1);
    expect(Array.from(w3.dataSync())).toEqual(p1);
    o1.dispose();
    o2.dispose();
    optim.disposeState(state);
  });

  it.each([
    ['SGD', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 })],
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.02 })],
    ['RMSprop', (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.005 })],
  ] as const)('a small regression learns with %s (loss falls by over 100x)', (_n, make) => {
    const { x, y } = data(3);
    const m = model(4);
    const crit = new nn.MSECriterion();
    const opt = make(m.parameters()[0]);
    const first = trainStep(m, crit, x, y, () => opt.step());
    let last = first;
    for (let t = 0; t < 300; t++) last = trainStep(m, crit, x, y, () => opt.step());
    expect(last).toBeLessThan(first / 100);
    opt.dispose();
  });

  it('optimiser state survives tidy, memory stays flat across steps, dispose() frees the state', () => {
    const { x, y } = data(5);
    const m = model(6);
    const crit = new nn.MSECriterion();
    const [w, dw] = m.getParameters();
    const opts = [
      new optim.Adam(m.parameters()[0], { lr: 1e-3 }),
      new optim.SGD(w, { lr: 1e-3, momentum: 0.9 }, dw),
      new optim.RMSprop(w, { lr: 1e-3 }, dw),
    ];
    const step = () =>
      trainStep(m, crit, x, y, () => {
        optim.clipGradNorm(dw, 1);
        for (const o of opts) o.step();
      });
    step(); // creates the state inside tidy: it must survive
    expect((opts[1]!.states[0] as optim.SGDState).dfdx!.isDisposed).toBe(false);
    const before = memory();
    for (let t = 0; t < 20; t++) step();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    for (const o of opts) o.dispose();
    // Adam holds m, v, denom per parameter; SGD one buffer; RMSprop m and tmp: 3 + 1 + 2 = 6 copies.
    expect(before.bytes - memory().bytes).toBe(6 * w.size * 8);
  });
});
