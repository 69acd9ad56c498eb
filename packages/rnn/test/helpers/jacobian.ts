import { expect } from 'vitest';
import {
  type Activity,
  type Tensor,
  manualSeed,
  mul,
  type nn,
  noGrad,
  randn,
  reshape,
  sum,
  tidy,
} from '@webrnn/rnn';

/**
 * Module-level Jacobian checks in the spirit of torch's nn.Jacobian, shared by the module tests: on float64 CPU
 * tensors, the gradInput returned by `backward` and the parameter gradients it accumulates are compared with
 * central differences of sum(output * R) for a random R. Stochastic modules are reseeded before every forward so
 * that each evaluation sees the same randomness.
 */

export const f64 = { dtype: 'float64' as const };
const EPS = 1e-6;
const close = (a: number, n: number) => Math.abs(a - n) <= 1e-6 + 1e-5 * Math.abs(n);

export const tensorsOf = (a: Activity): Tensor[] => (Array.isArray(a) ? a.flatMap(tensorsOf) : [a as Tensor]);
const mapAct = (a: Activity, fn: (t: Tensor) => Tensor): Activity =>
  Array.isArray(a) ? a.map((x) => mapAct(x, fn)) : fn(a as Tensor);
const shapeOf = (a: Activity): unknown =>
  Array.isArray(a) ? a.map(shapeOf) : `${(a as Tensor).shape.join('x')}:${(a as Tensor).dtype}`;

/** d f / d x by central differences, perturbing x in place (x must be dense). */
export function numeric(x: Tensor, f: () => number): Float64Array {
  const values = Float64Array.from(x.dataSync());
  const out = new Float64Array(values.length);
  noGrad(() => {
    const flat = reshape(x, [x.size]);
    for (let e = 0; e < values.length; e++) {
      const cell = flat.narrow(0, e, 1);
      cell.fill_(values[e]! + EPS);
      const fp = f();
      cell.fill_(values[e]! - EPS);
      const fm = f();
      cell.fill_(values[e]!);
      cell.dispose();
      out[e] = (fp - fm) / (2 * EPS);
    }
    flat.dispose();
  });
  return out;
}

export function expectClose(what: string, analytic: ArrayLike<number>, num: ArrayLike<number>): void {
  expect(analytic.length, what).toBe(num.length);
  for (let i = 0; i < num.length; i++) {
    if (!close(analytic[i]!, num[i]!)) {
      expect.fail(`${what}[${i}]: backward ${analytic[i]}, central differences ${num[i]}`);
    }
  }
}

export function jacobian(m: nn.Module, input: Activity, seed: number): void {
  tidy(() => {
    const forward = () => {
      manualSeed(seed);
      return m.forward(input);
    };
    const out = forward();
    const proj = mapAct(out, (o) => randn(o.shape, f64));
    const projList = tensorsOf(proj);
    const objective = () =>
      noGrad(() =>
        tidy(() => tensorsOf(forward()).reduce((s, o, i) => s + sum(mul(o, projList[i]!)).itemSync(), 0)),
      );
    m.zeroGradParameters();
    const gradInput = m.backward(input, proj);
    expect(shapeOf(gradInput)).toEqual(shapeOf(input));
    const gis = tensorsOf(gradInput).map((g) => Float64Array.from(g.dataSync()));
    const [params, grads] = m.parameters();
    const gps = grads.map((g) => Float64Array.from(g.dataSync()));
    tensorsOf(input).forEach((x, k) => {
      if (x.dtype === 'int32') expect(gis[k]!.every((v) => v === 0)).toBe(true);
      else expectClose(`gradInput ${k}`, gis[k]!, numeric(x, objective));
    });
    params.forEach((p, k) => expectClose(`gradient of parameter ${k}`, gps[k]!, numeric(p, objective)));
  });
}

export function jacobianCriterion(c: nn.Criterion, input: Tensor, target: Tensor | number): void {
  tidy(() => {
    c.forward(input, target);
    const g = c.backward(input, target) as Tensor;
    expect(g.shape).toEqual(input.shape);
    const objective = () => noGrad(() => tidy(() => c.forward(input, target).itemSync()));
    expectClose('criterion gradInput', g.dataSync(), numeric(input, objective));
  });
}
