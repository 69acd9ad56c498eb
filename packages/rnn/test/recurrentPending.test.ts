/**
 * Torch's split step-wise backward (updateGradInput now, accGradParameters later) keeps each step's parameter
 * gradients until accGradParameters takes them; a new forward step, forget() or a graph cut must free the ones
 * left, or every abandoned backward leaks them. Found by mutation testing of AbstractRecurrent.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, memory, randn, tidy } from '@webrnn/rnn';
import { H, N, gru, inputs } from './helpers/gruState.js';
import { arr, f64, gradValues } from './recurrentHelpers.js';

describe('pending parameter gradients of updateGradInput', () => {
  it('are freed by the next forward step, forget() and a cut, whatever number of steps was backpropagated', () => {
    fc.assert(
      fc.property(
        // Short of the first step: reaching it sets gradPrevState, state the module keeps (as Torch's gradPrevOutput).
        fc
          .integer({ min: 2, max: 5 })
          .chain((T) => fc.tuple(fc.constant(T), fc.integer({ min: 0, max: T - 1 }))),
        fc.constantFrom('forward', 'forget', 'cut'),
        ([T, back], end) => {
          const m = gru(1);
          const xs = inputs(2, T + 1);
          const gy = randn([N, H], f64);
          const live = () => memory().tensors;
          tidy(() => {
            for (const x of xs.slice(0, T)) m.forward(x);
          });
          m.forget();
          const base = live();
          tidy(() => {
            for (const x of xs.slice(0, T)) m.forward(x);
          });
          const afterForward = live();
          // Backpropagate some steps with updateGradInput only (their parameter gradients wait), then move on.
          for (let t = T - 1; t >= Math.max(0, T - back); t--) {
            tidy(() => {
              m.updateGradInput(xs[t]!, gy);
            });
          }
          if (back > 0) expect(live()).toBeGreaterThan(afterForward);
          expect(m.gradPrevState).toBeNull();
          if (end === 'forward') {
            tidy(() => {
              m.forward(xs[T]!);
            });
            m.forget();
          } else if (end === 'forget') m.forget();
          else {
            m.cutGraph();
            m.forget();
          }
          expect(live()).toBe(base);
          (m.parameters()[0] as Tensor[]).forEach((p) => expect(p.isDisposed).toBe(false));
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("Torch's split protocol beyond rho and its refusals", () => {
  const T = 3;
  const run = (how: 'backward' | 'split') => {
    const m = gru(3, 1);
    m.zeroGradParameters();
    const xs = inputs(4, T);
    const gy = randn([N, H], f64);
    for (const x of xs) m.forward(x);
    const gx: number[][] = [];
    for (let t = T - 1; t >= 0; t--) {
      gx[t] = arr((how === 'backward' ? m.backward(xs[t]!, gy) : m.updateGradInput(xs[t]!, gy)) as Tensor);
    }
    if (how === 'split') for (let t = T - 1; t >= 0; t--) m.accGradParameters(xs[t]!, gy);
    return { m, gx, xs, gy };
  };

  it('steps older than rho get zero gradInputs and add nothing to the parameters, as in backward', () => {
    const a = run('backward');
    const b = run('split');
    expect(b.gx).toEqual(a.gx);
    expect(b.gx[0]!.every((v) => v === 0)).toBe(true);
    expect(gradValues(b.m)).toEqual(gradValues(a.m));
  });

  it('accGradParameters without a pending updateGradInput is refused, also after a backward beyond rho', () => {
    for (const how of ['backward', 'split'] as const) {
      const { m, xs, gy } = run(how);
      expect(() => m.accGradParameters(xs[0]!, gy)).toThrow(
        'accGradParameters: called without a matching updateGradInput since the last forward: call ' +
          'updateGradInput(input, gradOutput) then accGradParameters(input, gradOutput) for each step, in reverse order',
      );
    }
  });

  it('updateGradInput only, then forget(): the waiting gradients, none for the older steps, are freed', () => {
    const m = gru(5, 1);
    const xs = inputs(6, T);
    const gy = randn([N, H], f64);
    const base = memory().tensors;
    tidy(() => {
      for (const x of xs) m.forward(x);
      for (let t = T - 1; t >= 0; t--) m.updateGradInput(xs[t]!, gy);
    });
    m.forget();
    expect(m.gradPrevState).not.toBeNull();
    m.clearState();
    expect(memory().tensors).toBe(base);
  });

  it('its errors name updateGradInput', () => {
    const m = gru(7);
    expect(() => m.updateGradInput(inputs(8, 1)[0]!, randn([N, H], f64))).toThrow(
      'updateGradInput: called before forward',
    );
  });

  it('setHiddenState(null) before the first step undoes an earlier setHiddenState: the sequence starts from zeros', () => {
    const m = gru(9);
    const fresh = gru(9);
    const x = inputs(10, 1)[0]!;
    m.setHiddenState(randn([N, H], f64));
    m.setHiddenState(null);
    expect(arr(m.forward(x) as Tensor)).toEqual(arr(fresh.forward(x) as Tensor));
  });
});
