import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, noGrad, randint, randn, tensor } from '@webrnn/rnn';

/** Criterion semantics against Torch on hand-computed cases, sizeAverage on and off for each. */

const i32 = { dtype: 'int32' as const };
const f64 = { dtype: 'float64' as const };
const logp = () =>
  tensor(
    [
      [-1, -2, -3],
      [-4, -5, -6],
    ],
    f64,
  );
const loss = (c: nn.Criterion, x: Tensor, t: Tensor | number) => c.forward(x, t).itemSync();
const grad = (c: nn.Criterion, x: Tensor, t: Tensor | number) => (c.backward(x, t) as Tensor).toArraySync();

describe('ClassNLLCriterion', () => {
  it('sums or averages -input[target] over the batch', () => {
    const t = tensor([2, 0], i32);
    expect(loss(new nn.ClassNLLCriterion(), logp(), t)).toBe(3.5);
    expect(loss(new nn.ClassNLLCriterion(null, false), logp(), t)).toBe(7);
    const avg = new nn.ClassNLLCriterion();
    avg.forward(logp(), t);
    expect(grad(avg, logp(), t)).toEqual([
      [0, 0, -0.5],
      [-0.5, 0, 0],
    ]);
  });

  it('with weights, averages over the summed weights of the targets (Torch, not N)', () => {
    const w = tensor([1, 2, 3], f64);
    const t = tensor([2, 0], i32);
    expect(loss(new nn.ClassNLLCriterion(w), logp(), t)).toBe(13 / 4);
    expect(loss(new nn.ClassNLLCriterion(w, false), logp(), t)).toBe(13);
    const c = new nn.ClassNLLCriterion(w);
    c.forward(logp(), t);
    expect(grad(c, logp(), t)).toEqual([
      [0, 0, -3 / 4],
      [-1 / 4, 0, 0],
    ]);
  });

  it('takes a 1-D input with a number target; weights cancel when averaging one example', () => {
    const x = tensor([-1, -2, -3], f64);
    const w = tensor([1, 2, 3], f64);
    expect(loss(new nn.ClassNLLCriterion(), x, 1)).toBe(2);
    expect(loss(new nn.ClassNLLCriterion(w), x, 1)).toBe(2);
    expect(loss(new nn.ClassNLLCriterion(w, false), x, 1)).toBe(4);
    expect(loss(new nn.ClassNLLCriterion(), x, tensor(2, i32))).toBe(3);
  });

  it('ignores targets equal to ignoreIndex; nothing to average gives 0', () => {
    const t = tensor([2, -100], i32);
    expect(loss(new nn.ClassNLLCriterion(), logp(), t)).toBe(3);
    expect(loss(new nn.ClassNLLCriterion(null, false), logp(), t)).toBe(3);
    const c = new nn.ClassNLLCriterion(tensor([1, 2, 3], f64));
    expect(loss(c, logp(), t)).toBe(3);
    expect(grad(c, logp(), t)).toEqual([
      [0, 0, -1],
      [0, 0, 0],
    ]);
    expect(loss(new nn.ClassNLLCriterion(null, true, 1), logp(), tensor([1, 1], i32))).toBeCloseTo(0, 15);
  });

  it('an empty batch gives 0 with or without weights and averaging, not 0/0 (as on WebGPU)', () => {
    const empty = () => randn([0, 3], f64);
    const none = tensor([], { ...i32, shape: [0] });
    for (const sizeAverage of [true, false]) {
      for (const weights of [null, tensor([1, 2, 3], f64)]) {
        expect(loss(new nn.ClassNLLCriterion(weights, sizeAverage), empty(), none)).toBeCloseTo(0, 15);
      }
    }
  });
});

describe('CrossEntropyCriterion', () => {
  it('equals LogSoftMax followed by ClassNLLCriterion, loss and gradient, with and without weights', () => {
    manualSeed(11);
    for (const weights of [null, tensor([0.5, 1, 2, 1.5], f64)]) {
      for (const avg of [true, false]) {
        const x = randn([5, 4], f64);
        const t = randint(0, 4, [5]);
        const ce = new nn.CrossEntropyCriterion(weights, avg);
        const lsm = new nn.LogSoftMax();
        const nll = new nn.ClassNLLCriterion(weights, avg);
        const lp = lsm.forward(x);
        expect(loss(ce, x, t)).toBeCloseTo(loss(nll, lp, t), 12);
        const g1 = (ce.backward(x, t) as Tensor).dataSync();
        const g2 = lsm.backward(x, nll.backward(lp, t) as Tensor).dataSync();
        g1.forEach((v, i) => expect(v).toBeCloseTo(g2[i]!, 12));
      }
    }
  });

  it('squeezes: [1, C] with [1] target or a number is one example; the gradient keeps the input shape', () => {
    const x = tensor([[1, 2, 3]], f64);
    const ce = new nn.CrossEntropyCriterion();
    const expected = -Math.log(Math.exp(2) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    expect(loss(ce, x, tensor([1], i32))).toBeCloseTo(expected, 12);
    expect(loss(ce, x, 1)).toBeCloseTo(expected, 12);
    expect((ce.backward(x, 1) as Tensor).shape).toEqual([1, 3]);
  });

  it("sizeAverage is the inner ClassNLLCriterion's, settable afterwards", () => {
    const x = randn([3, 4], f64);
    const t = tensor([0, 1, 3], i32);
    const ce = new nn.CrossEntropyCriterion();
    const mean = loss(ce, x, t);
    ce.sizeAverage = false;
    expect(ce.nll.sizeAverage).toBe(false);
    expect(loss(ce, x, t)).toBeCloseTo(3 * mean, 12);
  });
});

describe('BCECriterion', () => {
  const p = () => tensor([0.5, 0.25], f64);
  const y = () => tensor([1, 0], f64);
  const l1 = -Math.log(0.5 + 1e-12);
  const l2 = -Math.log(0.75 + 1e-12);

  it('sums or averages -[t log(x) + (1 - t) log(1 - x)] over the elements', () => {
    expect(loss(new nn.BCECriterion(), p(), y())).toBeCloseTo((l1 + l2) / 2, 12);
    expect(loss(new nn.BCECriterion(null, false), p(), y())).toBeCloseTo(l1 + l2, 12);
    const c = new nn.BCECriterion(null, false);
    c.forward(p(), y());
    const g = grad(c, p(), y()) as number[];
    expect(g[0]).toBeCloseTo(-1 / 0.5, 9);
    expect(g[1]).toBeCloseTo(1 / 0.75, 9);
  });

  it('weights each element of a 1-D target, each column of a 2-D one; averaging still divides by nElement', () => {
    expect(loss(new nn.BCECriterion(tensor([2, 1], f64)), p(), y())).toBeCloseTo((2 * l1 + l2) / 2, 12);
    expect(loss(new nn.BCECriterion(tensor([2, 1], f64), false), p(), y())).toBeCloseTo(2 * l1 + l2, 12);
    const x = tensor(
      [
        [0.5, 0.25],
        [0.5, 0.25],
      ],
      f64,
    );
    const t = tensor(
      [
        [1, 0],
        [1, 0],
      ],
      f64,
    );
    expect(loss(new nn.BCECriterion(tensor([2, 1], f64), false), x, t)).toBeCloseTo(2 * (2 * l1 + l2), 12);
  });

  it('takes a target with the same number of elements in another shape', () => {
    expect(loss(new nn.BCECriterion(), tensor([[0.5], [0.25]], f64), y())).toBeCloseTo((l1 + l2) / 2, 12);
  });
});

describe('MSECriterion', () => {
  it('sums or averages the squared errors', () => {
    const x = tensor([1, 2], f64);
    const t = tensor([3, 5], f64);
    expect(loss(new nn.MSECriterion(), x, t)).toBe(6.5);
    expect(loss(new nn.MSECriterion(false), x, t)).toBe(13);
    const c = new nn.MSECriterion(false);
    c.forward(x, t);
    expect(grad(c, x, t)).toEqual([-4, -6]);
  });
});

describe('Criterion.backward without a graph', () => {
  it('gives the gradient (in the input dtype) also when the forward ran under noGrad', () => {
    const c = new nn.MSECriterion();
    const x = randn([2, 2], f64);
    const t = randn([2, 2], f64);
    noGrad(() => c.forward(x, t));
    const g = c.backward(x, t) as Tensor;
    expect(g.dtype).toBe('float64');
    expect(g.toArraySync()).toEqual(noGrad(() => x.sub(t).mul(0.5)).toArraySync());
  });
});

describe('Criterion.backward', () => {
  it('differentiates its own arguments, not only the last forward (as Torch)', () => {
    manualSeed(3);
    const c = new nn.MSECriterion();
    const [a, b, ta, tb] = [randn([2, 3], f64), randn([2, 3], f64), randn([2, 3], f64), randn([2, 3], f64)];
    const lossA = c.forward(a, ta);
    const gb = (c.backward(b, tb) as Tensor).toArraySync();
    // d/dx mean((x - t)^2) = 2 (x - t) / n
    const expected = noGrad(() => b.sub(tb).mul(2 / 6)).toArraySync();
    expect(gb).toEqual(expected);
    // The output stays the last forward's loss; the same arguments reuse that forward's graph.
    expect(c.output).toBe(lossA);
    expect((c.backward(a, ta) as Tensor).toArraySync()).toEqual(
      noGrad(() => a.sub(ta).mul(2 / 6)).toArraySync(),
    );
  });
});
