import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type Tensor, tensor } from '@webrnn/core';

/**
 * Every case of the PyTorch fixtures (scripts/golden/make_fixtures.py): outputs, and the gradients of
 * sum(output * R) with respect to every float input, in float64.
 */
interface T {
  shape: number[];
  dtype: 'float64' | 'int32';
  data: number[];
}
interface Case {
  name: string;
  inputs: Record<string, T>;
  params: Record<string, unknown> & { op: string };
  outputs: Record<string, T>;
  grads: Record<string, T>;
}

const load = (f: T, grad = false) =>
  tensor(f.data, { shape: f.shape, dtype: f.dtype, requiresGrad: grad && f.dtype === 'float64' });
type Red = 'mean' | 'sum';

/** Our op for each of the fixtures' PyTorch names. */
function run(c: Case, x: Record<string, Tensor>): Tensor {
  const p = c.params;
  const axis = p.axis === null ? undefined : (p.axis as number | number[]);
  const opts = { keepdim: p.keepdim === true };
  const reds: Record<string, () => Tensor> = {
    matmul: () => core.matmul(x.a!, x.b!, { transA: p.transA === true, transB: p.transB === true }),
    softmax: () => core.softmax(x.x!, p.axis as number),
    log_softmax: () => core.logSoftmax(x.x!, p.axis as number),
    nll_loss: () => core.nll(x.x!, x.target!, p.reduction as Red),
    cross_entropy: () => core.crossEntropy(x.x!, x.target!, p.reduction as Red),
    mse_loss: () => core.mse(x.x!, x.target!, p.reduction as Red),
    binary_cross_entropy: () => core.bce(x.x!, x.target!, p.reduction as Red),
    sum: () => core.sum(x.x!, axis, opts),
    mean: () => core.mean(x.x!, axis, opts),
    max: () => core.max(x.x!, axis, opts),
    min: () => core.min(x.x!, axis, opts),
    argmax: () => core.argmax(x.x!, axis as number | undefined, opts),
    argmin: () => core.argmin(x.x!, axis as number | undefined, opts),
    hardtanh: () => core.hardtanh(x.x!, p.min as number, p.max as number),
  };
  const unary = ['exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 'abs'];
  const binary = ['add', 'sub', 'mul', 'div', 'pow'];
  if (reds[p.op]) return reds[p.op]!();
  if (unary.includes(p.op)) return (core as unknown as Record<string, (t: Tensor) => Tensor>)[p.op]!(x.x!);
  if (binary.includes(p.op))
    return (core as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[p.op]!(x.a!, x.b!);
  throw new Error(`no mapping for fixture op '${p.op}'`);
}

function expectClose(name: string, got: ArrayLike<number>, want: number[], tol: number) {
  expect(got.length, name).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) {
      throw new Error(`${name}[${i}]: got ${got[i]}, PyTorch ${want[i]}`);
    }
  }
}

for (const file of ['matmul', 'softmax', 'losses', 'reductions', 'elementwise']) {
  const { cases } = JSON.parse(readFileSync(new URL(`./fixtures/${file}.json`, import.meta.url), 'utf8')) as {
    cases: Case[];
  };
  describe(`PyTorch fixtures: ${file}`, () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
      const xs = Object.fromEntries(
        Object.entries(c.inputs)
          .filter(([k]) => k !== 'R')
          .map(([k, f]) => [k, load(f, k in c.grads)]),
      );
      const out = run(c, xs);
      // Torch7's BCE (which we follow) adds 1e-12 inside its logs where PyTorch clamps them.
      const tol = c.params.op === 'binary_cross_entropy' ? 1e-9 : 1e-10;
      expect(out.shape, c.name).toEqual(c.outputs.output!.shape);
      expectClose(`${c.name} output`, out.dataSync(), c.outputs.output!.data, tol);
      if (Object.keys(c.grads).length === 0) return;
      core.sum(core.mul(out, load(c.inputs.R!))).backward();
      for (const [k, g] of Object.entries(c.grads))
        expectClose(`${c.name} grad ${k}`, xs[k]!.grad!.dataSync(), g.data, tol * 10);
    });
  });
}
