import { type Tensor, WebrnnError, add, clone, keep, mul } from '../module/deps.js';
import { type Feval, type ParamsArg, Optimizer, functional, learningRateOf } from './Optimizer.js';

export interface SGDConfig {
  /** Default 1e-3, as Torch. `lr` is accepted as a short name. */
  learningRate?: number;
  lr?: number;
  /** lr / (1 + evalCounter * learningRateDecay). */
  learningRateDecay?: number;
  weightDecay?: number;
  momentum?: number;
  /** Default: the momentum, as Torch (PyTorch's default is 0). Nesterov needs 0. */
  dampening?: number;
  nesterov?: boolean;
}

export interface SGDState {
  evalCounter?: number;
  /** The momentum buffer. */
  dfdx?: Tensor;
}

/**
 * Torch's optim.sgd update, in place on x: with weight decay wd, momentum mom and dampening damp,
 *   g = dfdx + wd x;  buf = g (first step) or mom buf + (1 - damp) g;  g = nesterov ? g + mom buf : buf;
 *   x -= lr / (1 + t lrd) * g.
 * Unlike Torch the caller's gradient is not modified.
 */
export function sgdUpdate(x: Tensor, dfdx: Tensor, config: SGDConfig, state: SGDState): void {
  const lr = learningRateOf(config, 1e-3);
  const lrd = config.learningRateDecay ?? 0;
  const wd = config.weightDecay ?? 0;
  const mom = config.momentum ?? 0;
  const damp = config.dampening ?? mom;
  const nesterov = config.nesterov ?? false;
  if (nesterov && !(mom > 0 && damp === 0)) {
    throw new WebrnnError(
      'optim.sgd',
      `Nesterov momentum requires a momentum and zero dampening, got momentum ${mom} and dampening ${damp}` +
        (config.dampening === undefined
          ? ' (dampening defaults to the momentum, as in Torch: pass dampening: 0)'
          : ''),
    );
  }
  const nevals = state.evalCounter ?? 0;
  let g = wd !== 0 ? add(dfdx, mul(x, wd)) : dfdx;
  if (mom !== 0) {
    if (!state.dfdx) state.dfdx = keep(clone(g));
    else state.dfdx.mul_(mom).add_(mul(g, 1 - damp));
    g = nesterov ? add(g, mul(state.dfdx, mom)) : state.dfdx;
  }
  const clr = lr / (1 + nevals * lrd);
  x.sub_(mul(g, clr));
  state.evalCounter = nevals + 1;
}

/** Torch's functional form: `optim.sgd(feval, x, config, state)` returns [x, [f(x)]]; state defaults to config. */
export function sgd(
  feval: Feval,
  x: Tensor,
  config: SGDConfig = {},
  state?: SGDState,
): [Tensor, (number | Tensor)[]] {
  return functional(feval, x, state ?? (config as SGDState), (p, g, s) => sgdUpdate(p, g, config, s));
}

/** Stochastic gradient descent with Torch's momentum, dampening, Nesterov and weight decay. */
export class SGD extends Optimizer<SGDConfig, SGDState> {
  constructor(params: ParamsArg, config: SGDConfig = {}, grads?: ParamsArg) {
    super(params, config, grads);
  }

  protected override update(x: Tensor, dfdx: Tensor, state: SGDState): void {
    sgdUpdate(x, dfdx, this.config, state);
  }
}
