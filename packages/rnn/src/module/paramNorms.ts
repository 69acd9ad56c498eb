import { clipGradNorm, clipGradNormAsync } from '../optim/clipGradNorm.js';
import {
  type Tensor,
  WebrnnError,
  affine,
  gt,
  mul,
  noGrad,
  reciprocal,
  sqrt,
  square,
  sum,
  tidy,
  where,
} from './deps.js';
import type { Module } from './Module.js';

/**
 * dpnn's parameter-norm constraints, behind Module.gradParamClip / gradParamClipAsync / maxParamNorm. `own` is the
 * module's own parameters (not its children's). A module's `cutoffNorm`, `moduleLocal`, `maxOutNorm`, `maxInNorm`
 * fields, when set, replace the arguments from there down, as in dpnn.
 */

/**
 * Global: one L2 norm over every gradient below `m`, all scaled by cutoff / norm when above the cutoff. With
 * moduleLocal, each child (recursively, down to modules without children) clips its own and the result is the
 * root of their squared norms; parameters a module holds besides its children are one more group. A cutoff <= 0
 * clips nothing and returns 0 (dpnn returns nothing).
 */
export function gradParamClip(
  m: Module,
  own: readonly Tensor[],
  cutoffNorm: number,
  moduleLocal: boolean,
): number {
  const plan = clipPlan(m, own, cutoffNorm, moduleLocal);
  if (plan === null) return 0;
  const [cutoff, local, grads] = plan;
  if (!local) return clipGradNorm(grads, cutoff);
  let sq = grads.length > 0 ? clipGradNorm(grads, cutoff) ** 2 : 0;
  for (const c of m.children()) sq += c.gradParamClip(cutoff, local) ** 2;
  return Math.sqrt(sq);
}

export async function gradParamClipAsync(
  m: Module,
  own: readonly Tensor[],
  cutoffNorm: number,
  moduleLocal: boolean,
): Promise<number> {
  const plan = clipPlan(m, own, cutoffNorm, moduleLocal);
  if (plan === null) return 0;
  const [cutoff, local, grads] = plan;
  if (!local) return clipGradNormAsync(grads, cutoff);
  let sq = grads.length > 0 ? (await clipGradNormAsync(grads, cutoff)) ** 2 : 0;
  for (const c of m.children()) sq += (await c.gradParamClipAsync(cutoff, local)) ** 2;
  return Math.sqrt(sq);
}

/** [cutoff, moduleLocal, the gradients clipped at this level as one group], or null when nothing is clipped. */
function clipPlan(
  m: Module,
  own: readonly Tensor[],
  cutoffNorm: number,
  moduleLocal: boolean,
): [number, boolean, Tensor[]] | null {
  const cutoff = m.cutoffNorm ?? cutoffNorm;
  if (typeof cutoff !== 'number' || Number.isNaN(cutoff)) {
    throw new WebrnnError(`${m.errorName()}.gradParamClip`, `cutoffNorm must be a number, got ${cutoff}`);
  }
  if (cutoff <= 0) return null;
  const local = (m.moduleLocal ?? moduleLocal) && m.children().length > 0;
  const params = local ? own : m.parameters()[0];
  return [cutoff, local, params.map((p) => p.grad!)];
}

/**
 * Every parameter of rank >= 2 renormalised: rows (dimension 0, the weights into one output unit) to an L2 norm
 * of at most maxOutNorm, then columns (the last dimension, out of one input unit) to at most maxInNorm; a missing
 * or non-positive bound is skipped. Children follow with the same bounds.
 */
export function maxParamNorm(
  m: Module,
  own: readonly Tensor[],
  maxOutNorm?: number,
  maxInNorm?: number,
): void {
  const out = m.maxOutNorm ?? maxOutNorm;
  const inn = m.maxInNorm ?? maxInNorm;
  for (const [name, v] of [
    ['maxOutNorm', out],
    ['maxInNorm', inn],
  ] as const) {
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) {
      throw new WebrnnError(`${m.errorName()}.maxParamNorm`, `${name} must be a number, got ${v}`);
    }
  }
  if (out === undefined && inn === undefined) return;
  for (const p of own) {
    if (p.rank < 2) continue;
    if (out !== undefined && out > 0) renormInPlace(p, 0, out);
    if (inn !== undefined && inn > 0) renormInPlace(p, p.rank - 1, inn);
  }
  for (const c of m.children()) c.maxParamNorm(out, inn);
}

/**
 * Torch's `t:renorm(2, dim + 1, maxNorm)` in place: each slice at a fixed index of dimension `dim` whose L2 norm
 * exceeds maxNorm is scaled by maxNorm / (norm + 1e-7); the others are left as they are.
 */
export function renormInPlace(t: Tensor, dim: number, maxNorm: number): void {
  noGrad(() =>
    tidy(() => {
      const axes = Array.from({ length: t.rank }, (_, k) => k).filter((k) => k !== dim);
      const norm = sqrt(sum(square(t), axes, { keepdim: true }));
      t.mul_(where(gt(norm, maxNorm), mul(reciprocal(affine(norm, 1, 1e-7)), maxNorm), 1));
    }),
  );
}
