/**
 * Torch parity of the recurrent state API (issue 12), checked against fresh modules with the same weights and
 * against the same computation run by hand.
 */
import { describe, expect, it } from 'vitest';
import { type Activity, type Tensor, manualSeed, nn, randn } from '@webrnn/rnn';
import { copyParams, expectClose, f64, values } from './recurrentHelpers.js';

const D = 3;
const H = 4;
const N = 2;
const TOL = 1e-12;

type Kind = 'LSTM' | 'FastLSTM' | 'GRU' | 'Recurrent';
const KINDS: Kind[] = ['LSTM', 'FastLSTM', 'GRU', 'Recurrent'];

function make(kind: Kind, seed: number): InstanceType<typeof nn.AbstractRecurrent> {
  manualSeed(seed);
  switch (kind) {
    case 'LSTM':
      return new nn.LSTM(D, H).double();
    case 'FastLSTM':
      return new nn.FastLSTM(D, H).double();
    case 'GRU':
      return new nn.GRU(D, H).double();
    case 'Recurrent':
      return new nn.Recurrent(H, new nn.Linear(D, H), new nn.Linear(H, H), new nn.Tanh(), 99).double();
  }
}

function xsOf(seed: number, T: number): Tensor[] {
  manualSeed(seed);
  return Array.from({ length: T }, () => randn([N, D], f64));
}

/** A non-zero state of the module's layout ([h, c] for the LSTMs, h otherwise). */
function stateOf(kind: Kind, seed: number): Activity {
  manualSeed(seed);
  const h = randn([N, H], f64);
  return kind === 'LSTM' || kind === 'FastLSTM' ? [h, randn([N, H], f64)] : h;
}

describe('setHiddenState before the first step is the step-0 state (Torch), which forget() clears', () => {
  for (const kind of KINDS) {
    it(`${kind}: after forget() the module starts from zeros, as a fresh one`, () => {
      const xs = xsOf(1, 3);
      const m = make(kind, 7);
      m.setHiddenState(stateOf(kind, 2));
      m.forget();
      const ys = xs.map((x) => values(m.forward(x)));
      const fresh = make(kind, 7);
      expectClose(ys.flat(), xs.map((x) => values(fresh.forward(x))).flat(), TOL);
      // Not vacuous: starting from the state gives other outputs.
      const from = make(kind, 7);
      from.setHiddenState(stateOf(kind, 2));
      expect(Math.abs(values(from.forward(xs[0]!))[0]![0]! - ys[0]![0]![0]!)).toBeGreaterThan(1e-6);
    });

    it(`${kind}: without forget() the first step starts from it, the next sequence from zeros again`, () => {
      const xs = xsOf(3, 3);
      const m = make(kind, 7);
      const s = stateOf(kind, 4);
      m.setHiddenState(s);
      expectClose(values(m.getHiddenState()!), values(s), 0, 'getHiddenState before the first step');
      const ys = xs.map((x) => values(m.forward(x)));
      // By hand: a fresh module whose state after a first step is replaced by s, then the same steps.
      const byHand = make(kind, 7);
      byHand.forward(xs[0]!);
      byHand.setHiddenState(s);
      expectClose(ys.flat(), xs.map((x) => values(byHand.forward(x))).flat(), TOL);
      m.forget();
      const fresh = make(kind, 7);
      expectClose(values(m.forward(xs[0]!)), values(fresh.forward(xs[0]!)), TOL, 'after forget');
    });
  }
});
