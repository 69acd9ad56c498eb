import { expect } from 'vitest';
import type { Tensor } from '@webrnn/rnn';

/** Elementwise |a - b| <= tol (and equal shapes), naming the first element that differs. */
export function close(a: Tensor, b: Tensor, what: string, tol = 1e-10): void {
  expect(a.shape, what).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!(Math.abs(x[i]! - y[i]!) <= tol)) expect.fail(`${what}[${i}]: ${x[i]} vs ${y[i]}`);
  }
}
