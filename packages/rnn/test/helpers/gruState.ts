/**
 * Shared by recurrentState and recurrentStateApi tests: a small double GRU, its inputs, and the reference
 * gradients of an explicit objective computed on the tape.
 */
import { expect } from 'vitest';
import { type Tensor, manualSeed, nn, randn, vjp } from '@webrnn/rnn';
import { arr, f64 } from '../recurrentHelpers.js';

export const D = 3;
export const H = 4;
export const N = 2;
export const TOL = 1e-9;

export function gru(seed: number, rho?: number): nn.GRU {
  manualSeed(seed);
  return new nn.GRU(D, H, rho).double();
}

export function inputs(seed: number, T: number): Tensor[] {
  manualSeed(seed);
  return Array.from({ length: T }, () => randn([N, D], f64));
}

/**
 * Reference on the tape: d/d(h0, params) of sum_t sum(out_t * R_t) + sum(h_T * G), for a GRU starting from h0.
 */
export function reference(seed: number, xs: Tensor[], R: Tensor[] | null, G: Tensor, h0: Tensor) {
  const m = gru(seed);
  const leaf = h0.clone();
  leaf.requiresGrad = true;
  // The module holds a handle on its initial state: through an op, the gradient still reaches the leaf.
  m.userPrevOutput = leaf.mul(1);
  const outs = xs.map((x) => m.forward(x) as Tensor);
  const roots = [outs[outs.length - 1]!, ...(R ? outs : [])];
  const seeds = [G, ...(R ?? [])];
  const params = m.parameters()[0];
  const grads = vjp(roots, seeds, [leaf, ...params]);
  expect(grads.every((g) => g !== null)).toBe(true);
  const [gh0, ...gp] = grads.map((g) => arr(g!));
  // A vacuous comparison (everything zero) would prove nothing.
  expect(gp.flat().some((v) => Math.abs(v) > 1e-6)).toBe(true);
  return { gh0: gh0!, gp };
}
