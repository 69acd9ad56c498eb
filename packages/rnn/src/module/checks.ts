import { type Activity, describeActivity, expectTable, expectTensor } from './activity.js';
import { type Tensor, WebrnnError, fmtShape } from './deps.js';

/**
 * Input checks shared by the modules, so that every module names what it got and what it expected in the same
 * words. They throw plain WebrnnErrors; Module.forward prefixes the module's path.
 */

/** A float tensor (float32 or float64): what every differentiable module takes. */
export function floatTensor(a: Activity, what = 'input'): Tensor {
  const x = expectTensor(what, a);
  if (x.dtype === 'int32') {
    throw new WebrnnError(what, `has dtype int32, expected float32 or float64 (shape ${fmtShape(x.shape)})`);
  }
  return x;
}

/** A table whose entries are all tensors (no nesting), with at least `min` of them. */
export function tensorTable(a: Activity, min = 1, what = 'input'): Tensor[] {
  const t = expectTable(what, a);
  if (t.length < min) {
    throw new WebrnnError(what, `expected a table of at least ${min} tensor(s), got ${describeActivity(a)}`);
  }
  return t.map((x, i) => expectTensor(`${what}[${i}]`, x));
}

/** Every tensor of `xs` has the shape and dtype of the first (elementwise table modules). */
export function sameShapes(xs: readonly Tensor[], what = 'input'): void {
  const first = xs[0]!;
  xs.forEach((x, i) => {
    if (x.shape.join() !== first.shape.join() || x.dtype !== first.dtype) {
      throw new WebrnnError(
        `${what}[${i}]`,
        `has shape ${describeActivity(x)}, expected ${describeActivity(first)} like ${what}[0]`,
      );
    }
  });
}

/**
 * Torch's dimension rule for JoinTable and SplitTable, 0-based: a negative `dim` counts from the end; with
 * `nInputDims` set, an input with one more dimension is a batch, so `dim` moves one to the right.
 */
export function tableDim(
  dim: number,
  nInputDims: number | undefined,
  rank: number,
  shape: readonly number[],
): number {
  let d = dim;
  if (d < 0) d = rank + d;
  else if (nInputDims !== undefined && rank === nInputDims + 1) d = d + 1;
  if (!Number.isInteger(d) || d < 0 || d >= rank) {
    throw new WebrnnError(
      'dimension',
      `${dim}${d !== dim ? ` (resolved to ${d})` : ''} is out of range for an input of shape ${fmtShape(shape)}`,
    );
  }
  return d;
}

/** A positive integer constructor argument. */
export function positiveInt(where: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0)
    throw new WebrnnError(where, `${name} must be a positive integer, got ${v}`);
}

/** Sizes given Torch's way: `(2, 3)` or one array `([2, 3])`. */
export function sizesOf(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args.map((a) => a as number);
}
