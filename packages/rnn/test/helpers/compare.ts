import { expect } from 'vitest';
import { type Tensor, type nn, noGrad } from '@webrnn/rnn';

/** Elementwise |a - b| <= tol (and equal shapes), naming the first element that differs. */
export function close(a: Tensor, b: Tensor, what: string, tol = 1e-10): void {
  expect(a.shape, what).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!(Math.abs(x[i]! - y[i]!) <= tol)) expect.fail(`${what}[${i}]: ${x[i]} vs ${y[i]}`);
  }
}

/** Copy every parameter of `from` into the same-shaped parameters of `to` (same module class). */
export function copyParams(from: nn.Module, to: nn.Module): void {
  const src = from.parameters()[0];
  noGrad(() => to.parameters()[0].forEach((p, i) => p.copy_(src[i]!)));
}
