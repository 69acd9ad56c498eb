import { type Tensor, WebrnnError, add, cast, noGrad, square, sum, tidy } from '../module/deps.js';
import type { ParamsArg } from './Optimizer.js';

/**
 * The global L2 norm of the gradients, and if it exceeds `maxNorm`, every gradient scaled in place by
 * maxNorm / norm (Element-research rnn's gradParamClip). Takes gradients (e.g. the flat gradient of
 * `getParameters()` or `model.parameters()[1]`) or parameters (leaves that require grad stand for their
 * `.grad`). Returns the norm before clipping; reading it back needs a synchronous device (the CPU), else use
 * `clipGradNormAsync`.
 */
export function clipGradNorm(grads: ParamsArg, maxNorm: number): number {
  const gs = gradients(grads, maxNorm);
  const total = squaredNorm(gs);
  if (!total) return 0;
  if (!total.backend.canReadSync) {
    total.dispose();
    throw new WebrnnError(
      'clipGradNorm',
      `the ${total.device} backend cannot read the norm synchronously; use \`await optim.clipGradNormAsync(...)\``,
    );
  }
  const norm = Math.sqrt(total.itemSync());
  total.dispose();
  return rescale(gs, norm, maxNorm);
}

/** clipGradNorm for devices that read asynchronously (WebGPU). */
export async function clipGradNormAsync(grads: ParamsArg, maxNorm: number): Promise<number> {
  const gs = gradients(grads, maxNorm);
  const total = squaredNorm(gs);
  if (!total) return 0;
  const norm = Math.sqrt(await total.item());
  total.dispose();
  return rescale(gs, norm, maxNorm);
}

function gradients(grads: ParamsArg, maxNorm: number): Tensor[] {
  if (!(maxNorm > 0)) throw new WebrnnError('clipGradNorm', `maxNorm must be positive, got ${maxNorm}`);
  const list = Array.isArray(grads) ? (grads as readonly Tensor[]) : [grads as Tensor];
  return list.flatMap((t) => {
    const g = t.isLeaf && t.requiresGrad ? t.grad : t;
    return g ? [g] : [];
  });
}

/**
 * The sum of squares of every gradient, as one scalar on their device (one read for all): summed in float64 on
 * the CPU, in float32 on WebGPU, which has no f64 (each gradient reduced on the device, then the partial sums).
 */
function squaredNorm(gs: readonly Tensor[]): Tensor | null {
  if (gs.length === 0) return null;
  const acc = gs[0]!.device === 'cpu' ? 'float64' : 'float32';
  return noGrad(() => tidy(() => gs.map((g) => cast(sum(square(g)), acc)).reduce((a, b) => add(a, b))));
}

function rescale(gs: readonly Tensor[], norm: number, maxNorm: number): number {
  if (norm > maxNorm) {
    const k = maxNorm / norm;
    noGrad(() => {
      for (const g of gs) g.mul_(k);
    });
  }
  return norm;
}
