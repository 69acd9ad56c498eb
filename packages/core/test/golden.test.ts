import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type Tensor,
  bce,
  crossEntropy,
  logSoftmax,
  matmul,
  mse,
  mul,
  nll,
  softmax,
  sum,
  tensor,
} from '@webrnn/core';

interface Fixture {
  shape: number[];
  dtype: 'float64' | 'int32';
  data: number[];
}
interface Case {
  name: string;
  inputs: Record<string, Fixture>;
  params: Record<string, unknown> & { op: string };
  outputs: { output: Fixture };
  grads: Record<string, Fixture>;
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};
const load = (f: Fixture, requiresGrad = false) =>
  tensor(f.data, { shape: f.shape, dtype: f.dtype === 'int32' ? 'int32' : 'float64', requiresGrad });

/** Each case's op, called as the fixture's params describe (values from PyTorch 1.13, scripts/golden). */
function run(c: Case, x: Record<string, Tensor>): Tensor {
  const p = c.params;
  const target = () => load(p.target as Fixture);
  switch (p.op) {
    case 'matmul':
      return matmul(x.a!, x.b!, { transB: p.transB === true });
    case 'logSoftmax':
      return logSoftmax(x.x!, p.axis as number);
    case 'softmax':
      return softmax(x.x!, p.axis as number);
    case 'nll':
      return nll(x.x!, target(), p.reduction as 'mean');
    case 'crossEntropy':
      return crossEntropy(x.x!, target(), p.reduction as 'mean');
    case 'mse':
      return mse(x.x!, target(), p.reduction as 'mean');
    case 'bce':
      return bce(x.x!, target(), p.reduction as 'mean');
    default:
      throw new Error(`unknown op ${p.op}`);
  }
}

describe('golden values from PyTorch', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const xs = Object.fromEntries(
      Object.entries(c.inputs)
        .filter(([k]) => k !== 'R')
        .map(([k, f]) => [k, load(f, f.dtype !== 'int32')]),
    );
    const out = run(c, xs);
    expect(out.shape).toEqual(c.outputs.output.shape);
    // BCE: Torch7 (which we follow) adds 1e-12 inside the logs where PyTorch clamps them; 1e-9 covers it.
    const tol = c.params.op === 'bce' ? 1e-9 : 1e-12;
    Array.from(out.dataSync()).forEach((v, i) =>
      expect(Math.abs(v - c.outputs.output.data[i]!)).toBeLessThan(tol),
    );
    sum(mul(out, load(c.inputs.R!))).backward();
    for (const [k, g] of Object.entries(c.grads)) {
      const got = xs[k]!.grad!.dataSync();
      g.data.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(tol * 10));
    }
  });
});
