/**
 * Sequencer(Linear) in evaluation runs the Linear once over the whole tensor sequence (Recursor's whole-sequence
 * path) instead of T steps; Linear folds leading dims into the rows of one addmm. The reference is the same module
 * stepping (the sequence given as an array of steps always steps), and, for Linear alone, x W^T + b written with
 * matmul and add. Float32 and float64 on the CPU, random sizes; no tensor may outlive the scope.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Tensor, add, matmul, memory, nn, randn, stack, tidy, unbind } from '@webrnn/rnn';

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);

function expectSame(got: Tensor, want: Tensor, tol: number): void {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= tol * (1 + Math.abs(w[i]!)))) {
      expect.fail(`element ${i}: ${g[i]}, expected ${w[i]}`);
    }
  }
}

const dtypeArb = fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>;

describe('Sequencer(Linear) over a tensor in evaluation', () => {
  it('equals the step-by-step forward, for random sizes and dtypes, and frees what it made', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        dtypeArb,
        fc.boolean(),
        (T, N, D, O, dtype, bias) => {
          const linear = new nn.Linear(D, O, bias);
          const seq = new nn.Sequencer(linear).type(dtype).evaluate();
          const calls = vi.spyOn(linear, 'updateOutput');
          const before = memory().cpu!.liveBuffers;
          tidy(() => {
            const x = randn([T, N, D], { dtype });
            const whole = seq.forward(x);
            // One call over the whole sequence, not one per step.
            expect(calls).toHaveBeenCalledTimes(1);
            const stepped = stack(seq.forward(unbind(x, 0)) as Tensor[]);
            expectSame(whole, stepped, dtype === 'float32' ? 1e-5 : 1e-12);
            // As after T steps: the Sequencer's module output is the last step's.
            expectSame(seq.module.output as Tensor, stepped.select(0, T - 1), 1e-5);
          });
          seq.clearState();
          expect(memory().cpu!.liveBuffers).toBe(before);
          seq.dispose();
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('keeps stepping in training (each step keeps its graph for the step-wise backward)', () => {
    const seq = new nn.Sequencer(new nn.Linear(3, 2)).training();
    tidy(() => {
      const x = randn([4, 2, 3]);
      const y = seq.forward(x);
      const g = seq.backward(x, y.mul(0).add(1));
      expect((g as Tensor).shape).toEqual([4, 2, 3]);
    });
    seq.dispose();
  });
});

describe('Linear over any leading dims', () => {
  it('equals x W^T + b through matmul and add, for ranks 1 to 4', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 33 }),
        fc.integer({ min: 1, max: 33 }),
        dtypeArb,
        (lead, D, O, dtype) => {
          const lin = new nn.Linear(D, O).type(dtype);
          const before = memory().cpu!.liveBuffers;
          tidy(() => {
            const x = randn([...lead, D], { dtype });
            const want = add(matmul(x, lin.weight, { transB: true }), lin.bias!);
            expectSame(lin.forward(x), want, dtype === 'float32' ? 1e-5 : 1e-12);
          });
          lin.clearState();
          expect(memory().cpu!.liveBuffers).toBe(before);
          lin.dispose();
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });
});
