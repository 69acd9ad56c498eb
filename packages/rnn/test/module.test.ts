import { describe, expect, it } from 'vitest';
import { manualSeed, memory, mse, nn, randn, sum, tidy } from '@webrnn/rnn';

const f64 = { dtype: 'float64' as const };

function net() {
  manualSeed(1);
  return new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 2)).double();
}

describe('nn.Module protocol on the tape', () => {
  it('Torch-style backward and tape-style loss.backward() give the same gradients', () => {
    const x = randn([5, 3], f64);
    const target = randn([5, 2], f64);
    const a = net();
    const crit = new nn.MSECriterion();
    const out = a.forward(x);
    crit.forward(out, target);
    const gradInput = a.backward(x, crit.backward(out, target));
    const gA = a.parameters()[1].map((g) => Array.from(g.dataSync()));

    const b = net();
    const xb = x.clone().requiresGrad_();
    mse(b.forward(xb) as never, target).backward();
    const gB = b.parameters()[0].map((p) => Array.from(p.grad!.dataSync()));
    expect(gA.length).toBe(4);
    gA.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(gB[i]![j]!, 12)));
    const gi = Array.from((gradInput as never as { dataSync(): Float64Array }).dataSync());
    gi.forEach((v, j) => expect(v).toBeCloseTo(xb.grad!.dataSync()[j]!, 12));
  });

  it('backward accumulates, scale applies to parameters only, zeroGradParameters clears', () => {
    const m = net();
    const x = randn([2, 3], f64);
    const g = randn([2, 2], f64);
    m.forward(x);
    const gi1 = Array.from((m.backward(x, g) as never as { dataSync(): Float64Array }).dataSync());
    const w1 = Array.from(m.parameters()[1][0]!.dataSync());
    const gi2 = Array.from((m.backward(x, g, 0.5) as never as { dataSync(): Float64Array }).dataSync());
    const w2 = Array.from(m.parameters()[1][0]!.dataSync());
    gi2.forEach((v, i) => expect(v).toBeCloseTo(gi1[i]!, 12));
    w2.forEach((v, i) => expect(v).toBeCloseTo(1.5 * w1[i]!, 12));
    m.zeroGradParameters();
    expect(m.parameters()[1].every((t) => t.dataSync().every((v) => v === 0))).toBe(true);
  });

  it('prints the module tree like Torch', () => {
    const m = new nn.Sequential()
      .add(new nn.Linear(7, 10))
      .add(new nn.Sequential().add(new nn.Linear(10, 2, false)));
    expect(m.toString()).toBe(
      [
        'nn.Sequential {',
        '  [input -> (1) -> (2) -> output]',
        '  (1): nn.Linear(7 -> 10)',
        '  (2): nn.Sequential {',
        '    [input -> (1) -> output]',
        '    (1): nn.Linear(10 -> 2) without bias',
        '  }',
        '}',
      ].join('\n'),
    );
  });

  it('names the module path, the shape it got and the shape it expected', () => {
    const m = new nn.Sequential().add(new nn.Linear(7, 7)).add(new nn.Linear(5, 10));
    expect(() => m.forward(randn([3, 7]))).toThrow(
      'nn.Sequential[1] (nn.Linear(5 -> 10)): input: has shape [3, 7], expected [5] or [N, 5]',
    );
    expect(() => new nn.Linear(2, 2).backward(randn([2]), randn([2]))).toThrow(/called before forward/);
  });

  it('getParameters gives flat views that the parameters live in', () => {
    const m = net();
    const [p, g] = m.getParameters();
    expect(p.shape).toEqual([3 * 4 + 4 + 4 * 2 + 2]);
    const x = randn([2, 3], f64);
    m.forward(x);
    m.backward(x, randn([2, 2], f64));
    const before = Array.from(m.parameters()[0][0]!.dataSync());
    p.sub_(g.mul(0.1));
    const after = Array.from(m.parameters()[0][0]!.dataSync());
    const grad = Array.from(m.parameters()[1][0]!.dataSync());
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i]! - 0.1 * grad[i]!, 12));
  });

  it('clone copies parameters, sharedClone shares them', () => {
    const m = net();
    const c = m.clone();
    const s = m.sharedClone();
    const w = m.parameters()[0][0]!;
    expect(c.parameters()[0][0]).not.toBe(w);
    expect(Array.from(c.parameters()[0][0]!.dataSync())).toEqual(Array.from(w.dataSync()));
    expect(s.parameters()[0][0]).toBe(w);
    m.updateParameters(1); // grads are zero: nothing moves
    expect(Array.from(c.parameters()[0][0]!.dataSync())).toEqual(Array.from(w.dataSync()));
  });

  it('a training loop with tidy keeps memory flat', () => {
    const m = net();
    const crit = new nn.MSECriterion();
    const x = randn([4, 3], f64);
    const y = randn([4, 2], f64);
    const step = () =>
      tidy(() => {
        m.zeroGradParameters();
        const out = m.forward(x);
        crit.forward(out, y);
        m.backward(x, crit.backward(out, y));
        m.updateParameters(0.1);
      });
    step();
    const before = memory();
    let first = 0;
    for (let i = 0; i < 50; i++) step();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    first = sum(crit.forward(m.forward(x), y)).itemSync();
    expect(first).toBeLessThan(2);
  });

  it('dispose frees parameters, gradients and held state: memory returns to where it was', () => {
    const before = memory();
    {
      using m = new nn.Sequential()
        .add(new nn.SeqLSTM(3, 4))
        .add(new nn.Sequencer(new nn.FastLSTM(4, 4)))
        .add(new nn.Sequencer(new nn.Linear(4, 2)));
      const crit = new nn.MSECriterion();
      const x = randn([5, 2, 3]);
      const y = randn([5, 2, 2]);
      tidy(() => {
        const out = m.forward(x);
        crit.forward(out, y);
        m.backward(x, crit.backward(out, y));
        m.updateParameters(0.1);
      });
      x.dispose();
      y.dispose();
      crit.output?.dispose();
    }
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });

  it('constructing, resetting, converting and disposing any module leaks no tensor', () => {
    const makers: (() => nn.Module)[] = [
      () => new nn.Linear(3, 2),
      () => new nn.LookupTable(5, 3),
      () => new nn.FastLSTM(3, 2),
      () => new nn.LSTM(3, 2),
      () => new nn.GRU(3, 2),
      () => new nn.SeqLSTM(3, 4, 2),
      () => new nn.SeqGRU(3, 2),
      () => new nn.Recurrent(2, new nn.Linear(3, 2), new nn.Linear(2, 2), new nn.Sigmoid(), 3),
      () => new nn.CMul(3),
      () => new nn.Add(3),
      () => new nn.Sequencer(new nn.NormStabilizer()),
    ];
    for (const make of makers) {
      const before = memory().tensors;
      const m = make();
      m.reset();
      m.double().float();
      m.dispose();
      expect(memory().tensors, make.toString()).toBe(before);
    }
  });
});
