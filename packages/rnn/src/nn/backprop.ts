import { type Tensor, mul, noGrad, tidy, vjp, zeros } from './deps.js';

/**
 * The one backward step every module uses: the gradients of sum(roots[i] * seeds[i]) with respect to `inputs`,
 * accumulating `scale` times the parameters' gradients when `accumulate`. As in Torch, `scale` applies to the
 * parameters only: the returned input gradients are unscaled. Inputs no gradient reaches get zeros. The graph is
 * kept, so that Torch code may call backward more than once after one forward.
 */
export function scaledVjp(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  inputs: readonly Tensor[],
  scale: number,
  accumulate: boolean,
): Tensor[] {
  const acc = accumulate && scale !== 0;
  const rescale = acc && scale !== 1;
  return tidy(() => {
    const s = rescale ? seeds.map((g) => noGrad(() => mul(g, scale))) : seeds;
    const raw = vjp(roots, s, inputs, { accumulateLeaves: acc, retainGraph: true });
    return raw.map((g, i) => {
      const x = inputs[i]!;
      if (!g) return zeros(x.shape, { dtype: x.dtype, device: x.device });
      return rescale ? noGrad(() => mul(g, 1 / scale)) : g;
    });
  });
}
