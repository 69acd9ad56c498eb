import { WebrnnError, fmtShape } from '../errors.js';
import { tidy } from '../scopes.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fromData } from '../ops/create.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { noGrad } from './gradMode.js';
import { vjp } from './vjp.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  readonly eps?: number;
  readonly atol?: number;
  readonly rtol?: number;
  /** Seed of the random projection of the outputs. */
  readonly seed?: number;
  /** Throw on a mismatch (default) or return false. */
  readonly raiseException?: boolean;
}

/**
 * Check the tape's gradients of `fn` against float64 central differences, in the spirit of PyTorch's gradcheck.
 * The outputs are projected on a fixed random direction R, so one backward gives the whole vector-Jacobian
 * product and each input element costs two forward passes. Inputs must be float64 CPU tensors; those that
 * require grad are checked.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 1234, raiseException = true } = options;
  for (const [i, x] of inputs.entries()) {
    if (x.requiresGrad && (x.dtype !== 'float64' || x.device !== 'cpu')) {
      throw new WebrnnError('gradcheck', `input ${i} is ${x.dtype} on ${x.device}; use float64 CPU tensors`);
    }
  }
  const asList = (y: Tensor | readonly Tensor[]) => (Array.isArray(y) ? (y as Tensor[]) : [y as Tensor]);
  const gen = new Generator(seed);
  const outs = asList(fn(...inputs));
  const proj = outs.map((o) =>
    fromData(
      Float64Array.from({ length: o.size }, () => gen.next() * 2 - 1),
      o.shape,
      { dtype: o.dtype },
    ),
  );
  const checked = inputs.filter((x) => x.requiresGrad);
  const analytic = vjp(outs, proj, checked);
  const objective = (xs: Tensor[]) =>
    noGrad(() =>
      tidy(() => {
        const ys = asList(fn(...xs));
        let total = 0;
        ys.forEach((y, k) => {
          total += sum(mul(y.cast('float64'), proj[k]!)).itemSync();
        });
        return total;
      }),
    );
  try {
    for (const [ci, x] of checked.entries()) {
      const base = Float64Array.from(x.dataSync());
      const got = analytic[ci] ? analytic[ci]!.dataSync() : new Float64Array(base.length);
      for (let e = 0; e < base.length; e++) {
        const eval1 = (delta: number) => {
          const data = Float64Array.from(base);
          data[e] = data[e]! + delta;
          const moved = fromData(data, x.shape, { dtype: 'float64' });
          try {
            return objective(inputs.map((t) => (t === x ? moved : t)));
          } finally {
            moved.dispose();
          }
        };
        const numeric = (eval1(eps) - eval1(-eps)) / (2 * eps);
        const a = got[e]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          const where = `input ${inputs.indexOf(x)} (shape ${fmtShape(x.shape)}), element ${e}`;
          const msg = `gradient mismatch at ${where}: tape ${a}, finite differences ${numeric}`;
          if (raiseException) throw new WebrnnError('gradcheck', msg);
          return false;
        }
      }
    }
    return true;
  } finally {
    for (const t of [...outs, ...proj]) t.dispose();
    for (const g of analytic) g?.dispose();
  }
}
