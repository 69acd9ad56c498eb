/**
 * Shared by recurrent*.test.ts, recurrence, repeater, normStabilizer and equivalence tests: float64 comparisons of
 * tensors and tables, parameter snapshots, and a central-difference check of a scalar objective.
 */
import { expect } from 'vitest';
import { type Activity, type Tensor, mul, nn, noGrad, sum, tensor, tidy } from '@webrnn/rnn';

export const f64 = { dtype: 'float64' as const };

type HasParams = { parameters(): [Tensor[], Tensor[]] };

export const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** Every tensor of an activity, depth first, as plain numbers. */
export function values(a: Activity): number[][] {
  if (!Array.isArray(a)) return [arr(a as Tensor)];
  return (a as readonly Activity[]).flatMap(values);
}

/** Copies of the parameters' values (index i: parameter i in Torch's order). */
/** sum over steps of sum(output(t) * R(t)), without recording. */
export function seqObjective(m: nn.Module, xs: Activity[], R: Tensor[]): number {
  return noGrad(() =>
    tidy(() => {
      const outs = m.forward(xs) as Tensor[];
      return outs.reduce((s, o, t) => s + sum(mul(o, R[t]!)).itemSync(), 0);
    }),
  );
}

export const paramValues = (m: HasParams): number[][] => m.parameters()[0].map(arr);
/** Copies of the parameters' gradients. */
export const gradValues = (m: HasParams): number[][] => m.parameters()[1].map(arr);

/** |a - b| <= tol * (1 + |b|) elementwise, with the same structure. */
export function expectClose(a: number[][], b: number[][], tol: number, what = ''): void {
  expect(a.length, `${what}: number of tensors`).toBe(b.length);
  a.forEach((row, i) => {
    expect(row.length, `${what}: tensor ${i} size`).toBe(b[i]!.length);
    row.forEach((v, j) => {
      const w = b[i]![j]!;
      if (!(Math.abs(v - w) <= tol * (1 + Math.abs(w)))) {
        expect.fail(`${what}: tensor ${i} element ${j}: ${v} vs ${w} (tol ${tol})`);
      }
    });
  });
}

export function expectActivityClose(a: Activity, b: Activity, tol: number, what = ''): void {
  expectClose(values(a), values(b), tol, what);
}

/** Copy values into the parameters of `to` from those of `from` (same architecture). */
export function copyParams(from: HasParams, to: HasParams): void {
  const src = from.parameters()[0];
  const dst = to.parameters()[0];
  expect(dst.length).toBe(src.length);
  noGrad(() => dst.forEach((p, i) => p.copy_(src[i]!)));
}

/** Set one parameter (or any float tensor) from plain numbers. */
export function setValues(p: Tensor, v: ArrayLike<number>): void {
  noGrad(() =>
    tidy(() => {
      p.copy_(tensor(Float64Array.from(v), { shape: p.shape, dtype: p.dtype }));
    }),
  );
}

/**
 * Central differences of `objective` with respect to a few elements of each tensor (spread over the tensor),
 * compared with `analytic` (the same tensors' gradients, as plain numbers).
 */
export function checkAgainstFiniteDifferences(
  tensors: readonly Tensor[],
  analytic: readonly number[][],
  objective: () => number,
  { perTensor = 5, eps = 1e-6, tol = 1e-6 } = {},
): void {
  tensors.forEach((p, k) => {
    const base = Float64Array.from(p.dataSync());
    const n = base.length;
    const picks = new Set<number>();
    for (let e = 0; e < Math.min(perTensor, n); e++) picks.add(Math.floor((e * n) / Math.min(perTensor, n)));
    picks.add(n - 1);
    for (const e of picks) {
      const at = (d: number) => {
        const v = Float64Array.from(base);
        v[e] = v[e]! + d;
        setValues(p, v);
        return objective();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      setValues(p, base);
      const got = analytic[k]![e]!;
      if (!(Math.abs(got - numeric) <= tol * (1 + Math.abs(numeric)))) {
        expect.fail(`tensor ${k} element ${e}: analytic ${got} vs numeric ${numeric}`);
      }
    }
  });
}

/** An RNN layer as in test.lua's rnntest.Recurrent: Linear input, an MLP feedback, Sigmoid transfer. */
export function recurrentLayer(
  inputSize: number,
  outputSize: number,
  rho: number,
): InstanceType<typeof nn.Recurrent> {
  const feedback = new nn.Sequential()
    .add(new nn.Linear(outputSize, 12))
    .add(new nn.Sigmoid())
    .add(new nn.Linear(12, outputSize));
  return new nn.Recurrent(outputSize, new nn.Linear(inputSize, outputSize), feedback, new nn.Sigmoid(), rho);
}

/** Forward every step, then `nBackward` backward calls in reverse order (Torch's protocol on an AbstractRecurrent). */
export function stepwise(
  m: InstanceType<typeof nn.AbstractRecurrent>,
  xs: Activity[],
  gys: Activity[],
  nBackward = xs.length,
) {
  const ys = xs.map((x) => values(m.forward(x)));
  const gxs: number[][][] = [];
  for (let t = xs.length - 1; t >= xs.length - nBackward; t--) gxs[t] = values(m.backward(xs[t]!, gys[t]!));
  return { ys, gxs };
}
