import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, randn, tensor } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Element-research's TrimZero: MaskZero's result (outputs, gradInputs, parameter gradients) computed on the real
 * rows only; and the recurrent modules' trimZero(), which masks as maskZero does. Float64 on the CPU.
 */
const gpu = await webgpuForFile('TrimZero');
const f64 = { dtype: 'float64' as const };
const arr = (t: Activity) => Array.from((t as Tensor).dataSync());

/** Records the batch size its forward saw: proof that padding rows were taken out. */
class RowSpy extends nn.Identity {
  seen: number[] = [];
  override updateOutput(input: Activity): Activity {
    this.seen.push((input as Tensor).shape[0]!);
    return input;
  }
}

const net = (i: number, o: number) =>
  new nn.Sequential().add(new nn.Linear(i, 3)).add(new nn.Tanh()).add(new nn.Linear(3, o)).add(new RowSpy());

/** [N, D] rows, some all zeros (`pad`), and a gradOutput [N, O]. */
const batch = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    d: fc.integer({ min: 1, max: 4 }),
    o: fc.integer({ min: 1, max: 3 }),
  })
  .chain((p) =>
    fc.record({
      p: fc.constant(p),
      pad: fc.array(fc.boolean(), { minLength: p.n, maxLength: p.n }),
      explicit: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1000 }),
    }),
  );

describe('nn.TrimZero', () => {
  it("equals MaskZero's outputs and gradients, running the module on the real rows only", () => {
    fc.assert(
      fc.property(batch, ({ p, pad, explicit, seed }) => {
        manualSeed(seed);
        const x0 = randn([p.n, p.d], f64);
        const rows = Array.from(x0.dataSync());
        pad.forEach((z, i) => z && rows.fill(0, i * p.d, (i + 1) * p.d));
        // With an explicit mask the padding rows keep random values: only the mask says they are padding.
        const x = explicit ? x0 : tensor(rows, { shape: [p.n, p.d], dtype: 'float64' });
        const g = randn([p.n, p.o], f64);
        const inner = net(p.d, p.o).double();
        const trim = new nn.TrimZero(inner, 1);
        const mask = new nn.MaskZero(inner.clone(), 1);
        if (explicit) {
          const zm = tensor(
            pad.map((z) => (z ? 1 : 0)),
            { dtype: 'int32' },
          );
          trim.setZeroMask(zm);
          mask.setZeroMask(zm);
        }
        const results = [trim, mask].map((m) => {
          m.zeroGradParameters();
          const out = m.forward(x);
          const gi = m.backward(x, g);
          return [arr(out), arr(gi), ...m.parameters()[1].map(arr)];
        });
        expect(results[0]!.length).toBe(results[1]!.length);
        results[0]!.forEach((r, k) => {
          r.forEach((v, j) => expect(Math.abs(v - results[1]![k]![j]!)).toBeLessThan(1e-12));
        });
        const real = pad.filter((z) => !z).length;
        const trimmed = real > 0 && real < p.n;
        expect((inner.get(3) as RowSpy).seen).toEqual([trimmed ? real : p.n]);
        // Padding rows are exactly zero in the output and the gradInput.
        pad.forEach((z, i) => {
          if (!z) return;
          expect(
            arr(trim.output as Tensor)
              .slice(i * p.o, (i + 1) * p.o)
              .every((v) => v === 0),
          ).toBe(true);
          expect(
            arr(trim.gradInput as Tensor)
              .slice(i * p.d, (i + 1) * p.d)
              .every((v) => v === 0),
          ).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('runs as MaskZero where it cannot trim: a sequence [T, N, D], one sample, every row padding', () => {
    manualSeed(3);
    const spy = new RowSpy();
    const t = new nn.TrimZero(spy, 1);
    const seq = randn([2, 3, 2], f64);
    expect(arr(t.forward(seq))).toEqual(arr(new nn.MaskZero(new nn.Identity(), 1).forward(seq)));
    const none = tensor(
      [
        [0, 0],
        [0, 0],
      ],
      f64,
    );
    expect(arr(t.forward(none))).toEqual([0, 0, 0, 0]);
    expect(spy.seen).toEqual([2, 2]);
    expect(new nn.TrimZero(new nn.Identity(), 1).describe()).toBe('nn.TrimZero @ nn.Identity');
  });

  it('names the module when its output loses the batch dimension', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [0, 0, 0],
        [4, 5, 6],
      ],
      f64,
    );
    expect(() => new nn.TrimZero(new nn.Select(0, 0), 1).forward(x)).toThrow(
      /nn\.TrimZero @ nn\.Select: output: has shape \[3\] for 2 kept row\(s\), expected \[2, \.\.\.\]/,
    );
    expect(() => new nn.TrimZero(new nn.Identity(), -1)).toThrow(
      /nInputDim must be a non-negative integer, got -1/,
    );
  });
});

describe('nn.TrimZero gradients and devices', () => {
  it('has the gradients of its forward (float64 central differences) with an explicit mask', () => {
    manualSeed(12);
    // With zero rows found in the input, a perturbed zero row would stop being padding: the mask is given.
    const m = new nn.TrimZero(net(3, 2), 1).double();
    m.setZeroMask(tensor([0, 1, 0, 1, 0], { dtype: 'int32' }));
    const x = randn([5, 3], f64);
    expect(nn.Jacobian.testJacobian(m, x)).toBeLessThan(1e-7);
    expect(nn.Jacobian.testJacobianParameters(m, x)).toBeLessThan(1e-7);
  });

  it.skipIf(!gpu)(
    'trims on WebGPU with a mask on the CPU, and masks without one: both equal the CPU',
    async () => {
      manualSeed(13);
      const x = randn([5, 3]);
      const g = randn([5, 2]);
      const mask = tensor([1, 0, 0, 1, 0], { dtype: 'int32' });
      const run = (device: 'cpu' | 'webgpu', withMask: boolean) => {
        manualSeed(14);
        const inner = net(3, 2);
        const m = new nn.TrimZero(inner, 1).to(device);
        const xs = withMask
          ? x
          : tensor([
              [0, 0, 0],
              [1, 2, 3],
              [4, 5, 6],
              [0, 0, 0],
              [7, 8, 9],
            ]);
        if (withMask) m.setZeroMask(mask);
        const xd = xs.to(device);
        const out = m.forward(xd) as Tensor;
        const gi = m.backward(xd, g.to(device)) as Tensor;
        return { out, gi, grads: m.parameters()[1], seen: (inner.get(3) as RowSpy).seen };
      };
      for (const withMask of [true, false]) {
        const a = run('cpu', withMask);
        const b = run('webgpu', withMask);
        expect(a.seen).toEqual([3]);
        expect(b.seen).toEqual([withMask ? 3 : 5]);
        await expectCloseToCpu('output', a.out, b.out);
        await expectCloseToCpu('gradInput', a.gi, b.gi, 1e-3);
        for (const [i, gr] of a.grads.entries()) await expectCloseToCpu(`grad ${i}`, gr, b.grads[i]!, 1e-3);
      }
    },
  );
});

describe('trimZero() on the recurrent modules', () => {
  it('masks exactly as maskZero (AbstractRecurrent and the whole-sequence layers)', () => {
    manualSeed(9);
    const x = randn([3, 2, 2], f64);
    const data = Array.from(x.dataSync());
    data.fill(0, 2, 4); // step 0, sample 1 is padding
    data.fill(0, 8, 12); // step 2, both samples
    const xs = tensor(data, { shape: [3, 2, 2], dtype: 'float64' });
    const pairs: [nn.Module, nn.Module][] = [];
    const lstm = new nn.FastLSTM(2, 3).double();
    pairs.push([new nn.Sequencer(lstm.clone().trimZero(1)), new nn.Sequencer(lstm.clone().maskZero(1))]);
    const seq = new nn.SeqLSTM(2, 3).double();
    pairs.push([seq.clone().trimZero(), seq.clone().maskZero()]);
    for (const [a, b] of pairs) {
      const ya = arr(a.forward(xs));
      expect(ya).toEqual(arr(b.forward(xs)));
      expect(ya.slice(6 * 2, 6 * 3).every((v) => v === 0)).toBe(true);
    }
  });
});
