import { noGrad, type Tensor, uniform } from '../module/deps.js';

/**
 * Torch's `reset(stdv)` rule for uniform initialisation: a given `stdv` is a standard deviation, so the bound of
 * the uniform draw is stdv * sqrt(3); without it, the module's own default bound.
 */
export function uniformBound(stdv: number | undefined, defaultBound: number): number {
  return stdv === undefined ? defaultBound : stdv * Math.sqrt(3);
}

/** Overwrite parameters in place (off the tape) with uniform draws in [-bound, bound], in order. */
export function fillUniform(bound: number, params: Iterable<Tensor>): void {
  noGrad(() => {
    for (const p of params) {
      const r = uniform(p.shape, -bound, bound, { dtype: p.dtype, device: p.device });
      p.copy_(r);
      r.dispose();
    }
  });
}
