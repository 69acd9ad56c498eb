import type { Activity } from '../module/activity.js';
import { type Tensor, WebrnnError, noGrad, reshape, tidy, zeros } from '../module/deps.js';
import type { Module } from '../module/Module.js';

/**
 * Torch's nn.Jacobian: the largest difference between a module's Jacobian as its backward computes it and as
 * central differences estimate it, with respect to its input (`testJacobian`) or to its parameters
 * (`testJacobianParameters`). Use float64 modules and inputs on the CPU (`module.double()`), and make stochastic
 * modules deterministic first (`evaluate()`); recurrent modules are forgotten before every evaluation, so each one
 * is a fresh sequence. Costs one backward per output element and two forwards per perturbed element.
 */
export interface JacobianOptions {
  /** The central-difference step (Torch's `perturbation`). */
  readonly perturbation?: number;
}

export const Jacobian = {
  /** max |d output / d input| difference between backward and central differences. */
  testJacobian(module: Module, input: Tensor, opts: JacobianOptions = {}): number {
    check('testJacobian', input);
    const x = noGrad(() => input.clone());
    try {
      const analytic = backpropRows(module, x, () => {
        const gi = module.gradInput;
        if (!gi || Array.isArray(gi))
          throw new WebrnnError('nn.Jacobian', 'the module gave no gradInput tensor');
        return [gi as Tensor];
      });
      const numeric = differences(module, x, [x], opts.perturbation ?? 1e-6);
      return maxDifference(analytic, numeric);
    } finally {
      x.dispose();
    }
  },

  /** max |d output / d parameters| difference between backward (accGradParameters) and central differences. */
  testJacobianParameters(module: Module, input: Tensor, opts: JacobianOptions = {}): number {
    check('testJacobianParameters', input);
    const [params] = module.parameters();
    if (params.length === 0) return 0;
    const analytic = backpropRows(module, input, () => module.parameters()[1]);
    const numeric = differences(module, input, params, opts.perturbation ?? 1e-6);
    return maxDifference(analytic, numeric);
  },
};

function check(op: string, input: Tensor): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !('shape' in input)) {
    throw new WebrnnError(`nn.Jacobian.${op}`, 'takes one input tensor (tables are not supported)');
  }
  if (input.device !== 'cpu') {
    throw new WebrnnError(
      `nn.Jacobian.${op}`,
      `needs a CPU input (it reads values synchronously), got ${input.device}`,
    );
  }
}

const flatValues = (ts: readonly Tensor[]): number[] => ts.flatMap((t) => Array.from(t.dataSync()));

function forward(module: Module, x: Tensor): Tensor {
  module.forget();
  const y = module.forward(x as Activity);
  if (Array.isArray(y)) throw new WebrnnError('nn.Jacobian', 'the module must output one tensor');
  return y as Tensor;
}

/** Row j: the gradients `read()` returns after a backward of the one-hot gradOutput e_j. */
function backpropRows(module: Module, x: Tensor, read: () => readonly Tensor[]): number[][] {
  const size = tidy(() => forward(module, x).size);
  const rows: number[][] = [];
  for (let j = 0; j < size; j++) {
    // One scope per row: the output, the seed and the gradInput go; the values stay.
    rows.push(
      tidy(() => {
        const y = forward(module, x);
        module.zeroGradParameters();
        const seed = zeros(y.shape, { dtype: y.dtype });
        noGrad(() => reshape(seed, [size]).narrow(0, j, 1).fill_(1));
        module.backward(x as Activity, seed as Activity);
        return flatValues(read());
      }),
    );
  }
  return rows;
}

/** Row j: d output_j / d (every element of `targets`) by central differences, perturbing in place. */
function differences(module: Module, x: Tensor, targets: readonly Tensor[], eps: number): number[][] {
  const columns: number[][] = [];
  for (const t of targets) {
    noGrad(() => {
      const flat = reshape(t, [t.size]);
      const values = Array.from(t.dataSync());
      for (let e = 0; e < values.length; e++) {
        const cell = flat.narrow(0, e, 1);
        cell.fill_(values[e]! + eps);
        const plus = tidy(() => Array.from(forward(module, x).dataSync()));
        cell.fill_(values[e]! - eps);
        const minus = tidy(() => Array.from(forward(module, x).dataSync()));
        cell.fill_(values[e]!);
        cell.dispose();
        columns.push(plus.map((p, j) => (p - minus[j]!) / (2 * eps)));
      }
      flat.dispose();
    });
  }
  const outputs = columns[0]?.length ?? 0;
  return Array.from({ length: outputs }, (_, j) => columns.map((c) => c[j]!));
}

function maxDifference(a: number[][], b: number[][]): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) {
    for (let i = 0; i < a[j]!.length; i++) m = Math.max(m, Math.abs(a[j]![i]! - (b[j]?.[i] ?? Number.NaN)));
  }
  return m;
}
