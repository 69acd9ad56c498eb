import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randn } from '@webrnn/rnn';

/**
 * Step-wise recurrent modules in evaluation mode run without the tape (AbstractRecurrent.forward): no boundary
 * nodes or handles on the input and the state, no graph on the output even for an input that requires grad, no
 * boundary handle left behind per step; and the outputs are those of training mode, bit for bit (the same ops).
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);

const makers: Record<string, (i: number, h: number) => InstanceType<typeof nn.AbstractRecurrent>> = {
  FastLSTM: (i, h) => new nn.FastLSTM(i, h),
  LSTM: (i, h) => new nn.LSTM(i, h),
  GRU: (i, h) => new nn.GRU(i, h),
};

function stepAll(m: InstanceType<typeof nn.AbstractRecurrent>, xs: Tensor[]): Float32Array[] {
  m.forget();
  return xs.map((x) => {
    const y = m.forward(x) as Tensor;
    const v = y.dataSync() as Float32Array;
    y.dispose();
    return v;
  });
}

describe('evaluation mode of step-wise recurrent modules', () => {
  it('gives the training outputs, records no graph and leaves no boundary handle per step', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(makers)),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 1e6 }),
        (kind, I, H, N, T, seed) => {
          manualSeed(seed);
          const m = makers[kind]!(I, H);
          const xs = Array.from({ length: T }, () => randn([N, I]).requiresGrad_());
          const trained = stepAll(m.training(), xs);
          m.forget(); // drops the training history
          m.evaluate();
          m.forget();
          const counts: number[] = [];
          const evaluated = xs.map((x) => {
            const y = m.forward(x) as Tensor;
            expect(y.gradFn).toBeNull(); // no tape, although x requires grad
            const v = y.dataSync() as Float32Array;
            y.dispose();
            counts.push(memory().tensors);
            return v;
          });
          // Per step, the recurrent module itself leaves nothing (it used to leave a boundary handle per input and
          // state tensor: 2 for GRU, 4 for LSTMs). The LSTMs' inner Linear modules still leave the handle that
          // Module.forward makes on their input (1 per step, outside a tidy).
          const perStep = kind === 'GRU' ? 0 : 1;
          expect(counts[T - 1]! - counts[0]!).toBeLessThanOrEqual(perStep * (T - 1));
          for (let t = 0; t < T; t++) expect(evaluated[t]).toEqual(trained[t]);
          m.forget();
          for (const x of xs) x.dispose();
        },
      ),
      { numRuns: 40, seed: SEED },
    );
  });
});
