import { type Tensor, mul, noGrad, tidy, vjpObserving, zeros } from './deps.js';

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
  return scaledVjpObserving(roots, seeds, inputs, [], scale, accumulate).inputs;
}

/**
 * scaledVjp, also giving the (unscaled) gradients with respect to `observe`, tensors inside the graph that the
 * backward passes through: the inputs of the modules a container called, whose gradInput it sets on the way.
 */
export function scaledVjpObserving(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  inputs: readonly Tensor[],
  observe: readonly Tensor[],
  scale: number,
  accumulate: boolean,
): { inputs: Tensor[]; observed: Tensor[] } {
  const acc = accumulate && scale !== 0;
  const rescale = acc && scale !== 1;
  return tidy(() => {
    const s = rescale ? seeds.map((g) => noGrad(() => mul(g, scale))) : seeds;
    const raw = vjpObserving(roots, s, inputs, observe, { accumulateLeaves: acc, retainGraph: true });
    const unscale = (g: Tensor | null, x: Tensor) => {
      if (!g) return zeros(x.shape, { dtype: x.dtype, device: x.device });
      return rescale ? noGrad(() => mul(g, 1 / scale)) : g;
    };
    return {
      inputs: raw.inputs.map((g, i) => unscale(g, inputs[i]!)),
      observed: raw.observed.map((g, i) => unscale(g, observe[i]!)),
    };
  });
}
