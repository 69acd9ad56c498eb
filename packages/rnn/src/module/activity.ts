import { type Tensor, WebrnnError, fmtShapeOf } from './deps.js';

/**
 * What flows between modules: a tensor, or a (nested) array of them, Torch's tables.
 */
export type Activity = Tensor | readonly Activity[];

export function isTensorActivity(a: Activity): a is Tensor {
  return !Array.isArray(a);
}

/** The tensors of an activity, depth first. */
export function flattenActivity(a: Activity): Tensor[] {
  if (!Array.isArray(a)) return [a as Tensor];
  return (a as readonly Activity[]).flatMap(flattenActivity);
}

/** Rebuild an activity shaped like `like` from tensors taken in order from `flat`. */
export function unflattenActivity(like: Activity, flat: readonly Tensor[]): Activity {
  let i = 0;
  const build = (a: Activity): Activity =>
    Array.isArray(a) ? (a as readonly Activity[]).map(build) : (flat[i++] as Tensor);
  return build(like);
}

export function mapActivity(a: Activity, fn: (t: Tensor) => Tensor): Activity {
  return Array.isArray(a) ? (a as readonly Activity[]).map((x) => mapActivity(x, fn)) : fn(a as Tensor);
}

/** A one-line description for error messages: a shape, or a table of them. */
export function describeActivity(a: Activity | null | undefined): string {
  if (a === null || a === undefined) return 'nothing';
  if (!Array.isArray(a)) return `${fmtShapeOf(a as Tensor)}`;
  return `{${(a as readonly Activity[]).map(describeActivity).join(', ')}}`;
}

export function expectTensor(where: string, a: Activity): Tensor {
  if (Array.isArray(a)) {
    throw new WebrnnError(where, `expected a tensor, got a table ${describeActivity(a)}`);
  }
  return a as Tensor;
}

export function expectTable(where: string, a: Activity): readonly Activity[] {
  if (!Array.isArray(a)) {
    throw new WebrnnError(where, `expected a table (array), got a tensor ${describeActivity(a)}`);
  }
  return a as readonly Activity[];
}

/**
 * The output's tensors and the matching gradOutput's, checked to have the same structure and shapes (every
 * module's backward starts with this); the error names `op` and both structures.
 */
export function pairWithGradOutput(op: string, output: Activity, gradOutput: Activity): [Tensor[], Tensor[]] {
  const outs = flattenActivity(output);
  const gos = flattenActivity(gradOutput);
  if (gos.length !== outs.length || outs.some((o, i) => o.shape.join() !== gos[i]!.shape.join())) {
    throw new WebrnnError(
      op,
      `gradOutput is ${describeActivity(gradOutput)}, expected the output's ${describeActivity(output)}`,
    );
  }
  return [outs, gos];
}
