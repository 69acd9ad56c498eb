import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, WebrnnError, memory, tensor } from '@webrnn/core';

/**
 * Holes found by the sampled mutation run of core (`pnpm mutate:sample --package core`, README "Mutation
 * testing"): withLoss's gradients, the sequence ops' refusal of each wrong shape by their own name (not by an op
 * further down), lstmSequence's check of a freed `keep` mask (before its outputs are allocated, so nothing leaks), flatten's refusal of an axis by its name, and softmax of a 0-d tensor.
 */
const f64 = (shape: number[], requiresGrad = false) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, (_, i) => Math.sin(i + 1) / 2),
    { dtype: 'float64', requiresGrad },
  ).reshape(shape);
};
const list = (t: Tensor) => Array.from(t.dataSync());

/** `run` throws a WebrnnError of `op` whose message matches `what`. */
function refuses(run: () => unknown, op: string, what: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WebrnnError);
  expect((caught as WebrnnError).op).toBe(op);
  expect((caught as Error).message).toMatch(what);
}

describe('withLoss', () => {
  it('passes the gradient to x unchanged and backpropagates the loss as if added to the objective', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 6 }),
        (xs) => {
          const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
          // objective: sum(3 * y) with y = withLoss(x, sum(x * x)), so d/dx = 3 + 2x.
          const y = core.withLoss(x, core.sum(core.mul(x, x)));
          expect(list(y)).toEqual(xs);
          core.sum(core.mul(y, 3)).backward();
          const want = xs.map((v) => 3 + 2 * v);
          list(x.grad as Tensor).forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 12));
        },
      ),
    );
  });
});

describe('lstmSequence and gruSequence refuse each wrong shape themselves', () => {
  const [T, N, H] = [2, 3, 2];
  // One operand's shape changed at a time; each must be refused by the op with its expectation, whatever else.
  const lstmCases: [string, () => unknown][] = [
    ['gx rank 2', () => core.lstmSequence(f64([T * N, 4 * H]), f64([H, 4 * H]), f64([N, H]), f64([N, H]))],
    ['h0 rank 3', () => core.lstmSequence(f64([T, N, 4 * H]), f64([H, 4 * H]), f64([N, H, 1]), f64([N, H]))],
    ['h0 batch', () => core.lstmSequence(f64([T, N, 4 * H]), f64([H, 4 * H]), f64([N + 1, H]), f64([N, H]))],
    ['wh rows', () => core.lstmSequence(f64([T, N, 4 * H]), f64([H + 1, 4 * H]), f64([N, H]), f64([N, H]))],
  ];
  for (const [name, run] of lstmCases) {
    it(`lstmSequence: ${name}`, () => refuses(run, 'lstmSequence', /expected gx \[T, N, 4H\].*h0 \[N, R\]/));
  }
  const gruCases: [string, () => unknown][] = [
    ['gx rank 2', () => core.gruSequence(f64([T * N, 3 * H]), f64([H, 3 * H]), f64([N, H]))],
    ['gx gates 4H', () => core.gruSequence(f64([T, N, 4 * H]), f64([H, 4 * H]), f64([N, H]))],
    ['h0 rank 3', () => core.gruSequence(f64([T, N, 3 * H]), f64([H, 3 * H]), f64([N, H, 1]))],
    ['wh rows', () => core.gruSequence(f64([T, N, 3 * H]), f64([H + 1, 3 * H]), f64([N, H]))],
  ];
  for (const [name, run] of gruCases) {
    it(`gruSequence: ${name}`, () => refuses(run, 'gruSequence', /expected gx \[T, N, 3H\].*h0 \[N, H\]/));
  }

  it('lstmSequence refuses a freed keep mask before it allocates anything', () => {
    const args = [f64([T, N, 4 * H]), f64([H, 4 * H]), f64([N, H]), f64([N, H])] as const;
    const keep = f64([T, N, 1]);
    keep.dispose();
    const before = memory();
    refuses(() => core.lstmSequence(...args, { keep }), 'lstmSequence', /was disposed/);
    expect(memory()).toEqual(before);
    for (const a of args) a.dispose();
  });
});

describe('flatten', () => {
  it('refuses an axis out of range by its own name', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), (rank, beyond) => {
        const x = f64(new Array(rank).fill(1));
        refuses(() => core.flatten(x, rank + beyond), 'flatten', /axis/);
        refuses(() => core.flatten(x, 0, rank + beyond), 'flatten', /axis/);
        x.dispose();
      }),
    );
  });
});

describe('softmax of a 0-d tensor', () => {
  it('is 1 (log-softmax 0), as over a row of one element', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.constantFrom('float32', 'float64'),
        (v, dtype) => {
          const x = tensor([v], { dtype }).reshape([]);
          expect(list(core.softmax(x))).toEqual([1]);
          // x - logsumexp(x) is -0 for x = -0; + 0 makes either zero +0.
          expect(list(core.logSoftmax(x)).map((y) => y + 0)).toEqual([0]);
        },
      ),
    );
  });
});
