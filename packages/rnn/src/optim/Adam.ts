import { type Tensor, add, div, keep, mul, sqrt, square, zerosLike } from '../module/deps.js';
import { type Feval, type ParamsArg, Optimizer, functional, learningRateOf } from './Optimizer.js';

export interface AdamConfig {
  /** Default 1e-3. `lr` is accepted as a short name. */
  learningRate?: number;
  lr?: number;
  learningRateDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

export interface AdamState {
  t?: number;
  m?: Tensor;
  v?: Tensor;
  denom?: Tensor;
}

/**
 * Torch's optim.adam update, in place on x:
 *   g = dfdx + wd x;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  denom = sqrt(v) + eps;
 *   x -= lr / (1 + t lrd) * sqrt(1 - b2^t) / (1 - b1^t) * m / denom.
 * (Torch adds epsilon to sqrt(v) before the bias correction, unlike PyTorch.)
 */
export function adamUpdate(x: Tensor, dfdx: Tensor, config: AdamConfig, state: AdamState): void {
  const lr = learningRateOf(config, 1e-3);
  const lrd = config.learningRateDecay ?? 0;
  const beta1 = config.beta1 ?? 0.9;
  const beta2 = config.beta2 ?? 0.999;
  const eps = config.epsilon ?? 1e-8;
  const wd = config.weightDecay ?? 0;
  const g = wd !== 0 ? add(dfdx, mul(x, wd)) : dfdx;
  const t = state.t ?? 0;
  state.m ??= keep(zerosLike(g));
  state.v ??= keep(zerosLike(g));
  state.denom ??= keep(zerosLike(g));
  const clr = lr / (1 + t * lrd);
  state.t = t + 1;
  state.m.mul_(beta1).add_(mul(g, 1 - beta1));
  state.v.mul_(beta2).add_(mul(square(g), 1 - beta2));
  state.denom.copy_(sqrt(state.v)).add_(eps);
  const stepSize = (clr * Math.sqrt(1 - beta2 ** state.t)) / (1 - beta1 ** state.t);
  x.sub_(mul(div(state.m, state.denom), stepSize));
}

/** Torch's functional form: `optim.adam(feval, x, config, state)`. */
export function adam(
  feval: Feval,
  x: Tensor,
  config: AdamConfig = {},
  state?: AdamState,
): [Tensor, (number | Tensor)[]] {
  return functional(feval, x, state ?? (config as AdamState), (p, g, s) => adamUpdate(p, g, config, s));
}

/** Adam (Kingma and Ba) with Torch's update. */
export class Adam extends Optimizer<AdamConfig, AdamState> {
  constructor(params: ParamsArg, config: AdamConfig = {}, grads?: ParamsArg) {
    super(params, config, grads);
  }

  protected override update(x: Tensor, dfdx: Tensor, state: AdamState): void {
    adamUpdate(x, dfdx, this.config, state);
  }
}
