/**
 * A container holding two recurrent modules with user-given initial states: one backward through the container
 * hands each module the gradients of its own initial states (Torch's userGradPrevOutput / userGradPrevCell), the
 * same as one tape over the whole graph.
 */
import { describe, it } from 'vitest';
import { type Tensor, manualSeed, nn, randn, vjp } from '@webrnn/rnn';
import { arr, expectClose, f64 } from './recurrentHelpers.js';

describe('state gradients of several recurrent modules in one container', () => {
  it('each SeqLSTM gets the gradients of its own initial states', () => {
    manualSeed(41);
    const [T, N, D, H] = [3, 2, 2, 3];
    const a = new nn.SeqLSTM(D, H).double();
    const b = new nn.SeqLSTM(H, H).double();
    const net = new nn.Sequential().add(a).add(b);
    const x = randn([T, N, D], f64);
    const gy = randn([T, N, H], f64);
    const states = [0, 1, 2, 3].map(() => randn([N, H], f64));
    const give = (s: Tensor[]) => {
      a.userPrevOutput = s[0]!;
      a.userPrevCell = s[1]!;
      b.userPrevOutput = s[2]!;
      b.userPrevCell = s[3]!;
    };
    // Torch style: one backward through the container.
    give(states);
    net.forward(x);
    net.backward(x, gy);
    const got = [a.userGradPrevOutput, a.userGradPrevCell, b.userGradPrevOutput, b.userGradPrevCell].map(
      (g) => arr(g as Tensor),
    );
    // One tape with the initial states as leaves.
    const leaves = states.map((s) => s.clone().requiresGrad_());
    give(leaves);
    const y = net.forward(x) as Tensor;
    const want = vjp([y], [gy], leaves).map((g) => arr(g!));
    expectClose(got, want, 1e-10, 'initial state gradients');
  });
});
