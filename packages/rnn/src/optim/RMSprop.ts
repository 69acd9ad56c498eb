import { type Tensor, add, div, fullLike, keep, mul, sqrt, square, zerosLike } from '../module/deps.js';
import { type Feval, type ParamsArg, Optimizer, functional, learningRateOf } from './Optimizer.js';

export interface RMSpropConfig {
  /** Default 1e-2. `lr` is accepted as a short name. */
  learningRate?: number;
  lr?: number;
  /** Smoothing constant, default 0.99. */
  alpha?: number;
  epsilon?: number;
  weightDecay?: number;
  /** Initial value of the mean square, default 0. */
  initialMean?: number;
}

export interface RMSpropState {
  m?: Tensor;
  tmp?: Tensor;
}

/**
 * Torch's optim.rmsprop update, in place on x:
 *   g = dfdx + wd x;  m = alpha m + (1 - alpha) g^2;  x -= lr * g / (sqrt(m) + eps).
 */
export function rmspropUpdate(x: Tensor, dfdx: Tensor, config: RMSpropConfig, state: RMSpropState): void {
  const lr = learningRateOf(config, 1e-2);
  const alpha = config.alpha ?? 0.99;
  const eps = config.epsilon ?? 1e-8;
  const wd = config.weightDecay ?? 0;
  const g = wd !== 0 ? add(dfdx, mul(x, wd)) : dfdx;
  state.m ??= keep(fullLike(g, config.initialMean ?? 0));
  state.tmp ??= keep(zerosLike(g));
  state.m.mul_(alpha).add_(mul(square(g), 1 - alpha));
  state.tmp.copy_(sqrt(state.m)).add_(eps);
  x.sub_(mul(div(g, state.tmp), lr));
}

/** Torch's functional form: `optim.rmsprop(feval, x, config, state)`. */
export function rmsprop(
  feval: Feval,
  x: Tensor,
  config: RMSpropConfig = {},
  state?: RMSpropState,
): [Tensor, (number | Tensor)[]] {
  return functional(feval, x, state ?? (config as RMSpropState), (p, g, s) => rmspropUpdate(p, g, config, s));
}

/** RMSprop (Tieleman and Hinton) with Torch's update. */
export class RMSprop extends Optimizer<RMSpropConfig, RMSpropState> {
  constructor(params: ParamsArg, config: RMSpropConfig = {}, grads?: ParamsArg) {
    super(params, config, grads);
  }

  protected override update(x: Tensor, dfdx: Tensor, state: RMSpropState): void {
    rmspropUpdate(x, dfdx, this.config, state);
  }
}
