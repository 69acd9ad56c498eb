import type { Activity } from './activity.js';
import { floatTensor } from './checks.js';
import { WebrnnError, lt, mul, rand, tidy } from './deps.js';
import { Module } from './Module.js';

/**
 * Zeroes each input element with probability `p` during training (torch's nn.Dropout). By default (Torch's
 * "version 2") the kept elements are scaled by 1/(1-p) at training time, so evaluation is the identity; with
 * `v1` the output is instead scaled by (1-p) at evaluation. The mask comes from the core's default generator,
 * so `manualSeed` makes it reproducible; backward multiplies by the same mask (it is saved on the tape).
 * `stochasticInference` keeps dropping in evaluate() mode (Monte-Carlo dropout).
 */
export class Dropout extends Module {
  constructor(
    public p = 0.5,
    readonly v1 = false,
    readonly inplace = false,
    public stochasticInference = false,
  ) {
    super();
    checkP(p);
  }

  setp(p: number): this {
    checkP(p);
    this.p = p;
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const x = floatTensor(input);
    const p = this.p;
    if (p === 0) return x;
    if (this.train || this.stochasticInference) {
      return tidy(() => {
        // Bernoulli(1 - p) noise, scaled up front in version 2.
        const keep = lt(rand(x.shape, { dtype: x.dtype, device: x.device }), 1 - p);
        return mul(x, this.v1 ? keep : mul(keep, 1 / (1 - p)));
      });
    }
    return this.v1 ? mul(x, 1 - p) : x;
  }

  override describe(): string {
    // Torch prints p with %f.
    return `${this.typeName}(${this.p.toFixed(6)})`;
  }
}

function checkP(p: number): void {
  if (!(p >= 0 && p < 1))
    throw new WebrnnError('nn.Dropout', `illegal percentage, must be 0 <= p < 1, got ${p}`);
}
