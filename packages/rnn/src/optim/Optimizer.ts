import { type Tensor, WebrnnError, fmtShape, noGrad, tidy } from '../module/deps.js';
import { className } from '../module/className.js';

/** What an optimiser updates: one tensor (e.g. the flat vector of `getParameters()`) or a list of parameters. */
export type ParamsArg = Tensor | readonly Tensor[];

/** Torch's `feval`: the loss at x (a number or a scalar tensor) and the gradient of the loss at x. */
export type Feval = (x: Tensor) => readonly [number | Tensor, Tensor];

/** The learning rate of a config: Torch's `learningRate`, or `lr` for short. */
export function learningRateOf(config: { learningRate?: number; lr?: number }, fallback: number): number {
  return config.learningRate ?? config.lr ?? fallback;
}

/**
 * Optimisers the PyTorch way round, on Torch's update rules: `new optim.SGD(model.parameters()[0], cfg)` takes
 * each parameter's gradient from its `.grad`; for the flat vectors of `getParameters()` pass the gradient vector
 * too: `const [w, dw] = model.getParameters(); new optim.SGD(w, cfg, dw)`. `step()` updates the parameters in
 * place under noGrad (so views such as getParameters' stay valid) and frees its temporaries; the state (momentum,
 * moments) is kept out of every `tidy` and freed by `dispose()`.
 */
export abstract class Optimizer<C extends object, S extends object> {
  readonly params: readonly Tensor[];
  /** One state per parameter, with Torch's field names (e.g. `dfdx`, `m`, `v`). */
  readonly states: S[];
  private readonly grads: readonly Tensor[] | null;

  constructor(
    params: ParamsArg,
    public config: C,
    grads?: ParamsArg,
  ) {
    const name = className(this.constructor);
    this.params = Array.isArray(params) ? [...(params as readonly Tensor[])] : [params as Tensor];
    this.grads =
      grads === undefined
        ? null
        : Array.isArray(grads)
          ? [...(grads as readonly Tensor[])]
          : [grads as Tensor];
    if (this.params.length === 0) throw new WebrnnError(`optim.${name}`, 'got no parameters to optimise');
    if (this.grads && this.grads.length !== this.params.length) {
      throw new WebrnnError(
        `optim.${name}`,
        `got ${this.params.length} parameters but ${this.grads.length} gradients`,
      );
    }
    this.params.forEach((p, i) => {
      if (p.dtype === 'int32')
        throw new WebrnnError(
          `optim.${name}`,
          `parameter ${i} is int32; only float tensors can be optimised`,
        );
      // A tensor the tape never gives a .grad (such as getParameters()'s flat vector) needs its gradient passed.
      if (!this.grads && !p.grad && !(p.isLeaf && p.requiresGrad)) {
        throw new WebrnnError(
          `optim.${name}`,
          `parameter ${i} of shape ${fmtShape(p.shape)} has no .grad and is not a leaf that requires grad; for the vectors of getParameters() pass the gradient vector too: new optim.${name}(w, config, dw)`,
        );
      }
      const g = this.grads?.[i];
      if (g && g.shape.join() !== p.shape.join()) {
        throw new WebrnnError(
          `optim.${name}`,
          `gradient ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(p.shape)} like its parameter`,
        );
      }
    });
    this.states = this.params.map(() => ({}) as S);
  }

  /** Torch's update of `x` given its gradient `dfdx`, in place, with this optimiser's config and `state`. */
  protected abstract update(x: Tensor, dfdx: Tensor, state: S): void;

  /** The gradient of parameter i now (null for a tape-style leaf that has none yet: it is skipped). */
  private gradOf(i: number): Tensor | null {
    return this.grads ? this.grads[i]! : (this.params[i]!.grad ?? null);
  }

  step(): void {
    this.params.forEach((p, i) => {
      const g = this.gradOf(i);
      if (g) noGrad(() => tidy(() => this.update(p, g, this.states[i]!)));
    });
  }

  /** Zero the gradients in place (Torch's zeroGradParameters), keeping them and any views of them. */
  zeroGrad(): void {
    noGrad(() => {
      this.params.forEach((_, i) => this.gradOf(i)?.zero_());
    });
  }

  /** Free the state tensors; the next step starts afresh. */
  dispose(): void {
    for (const s of this.states) disposeState(s);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Dispose every tensor held in a state object of the functional optimisers (`optim.sgd(feval, x, config, state)`). */
export function disposeState(state: object): void {
  const s = state as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    const v = s[k] as { dispose?: unknown; shape?: unknown } | null;
    if (v && typeof v === 'object' && typeof v.dispose === 'function' && 'shape' in v) {
      (v as Tensor).dispose();
      delete s[k];
    }
  }
}

/** Run Torch's functional form: evaluate, update under noGrad in a tidy, return [x, [f(x)]]. */
export function functional<S extends object>(
  feval: Feval,
  x: Tensor,
  state: S,
  update: (x: Tensor, dfdx: Tensor, state: S) => void,
): [Tensor, (number | Tensor)[]] {
  const [fx, dfdx] = feval(x);
  if (dfdx.shape.join() !== x.shape.join()) {
    throw new WebrnnError(
      'optim',
      `feval returned a gradient of shape ${fmtShape(dfdx.shape)}, expected ${fmtShape(x.shape)}`,
    );
  }
  noGrad(() => tidy(() => update(x, dfdx, state)));
  return [x, [fx]];
}
