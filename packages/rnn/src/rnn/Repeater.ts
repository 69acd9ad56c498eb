import type { Activity } from '../nn/activity.js';
import { Container } from '../nn/Container.js';
import { ModuleError } from '../nn/errors.js';
import type { Module } from '../nn/Module.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';
import { Recursor } from './Recursor.js';

/**
 * Element-research's nn.Repeater: applies a recurrent module to the same input `rho` times; the output is the
 * table of the `rho` step outputs. A module that is not recurrent is wrapped in a Recursor. Backward is one
 * vector-Jacobian product over the unrolled steps (as for Sequencer); gradients from every step add up at the
 * shared input.
 */
export class Repeater extends Container {
  constructor(
    module: Module,
    readonly rho: number,
  ) {
    super();
    this.add(module instanceof AbstractRecurrent ? module : new Recursor(module));
  }

  get module(): AbstractRecurrent {
    return this.modules[0] as AbstractRecurrent;
  }

  override updateOutput(input: Activity): Activity {
    const m = this.module;
    m.forget();
    m.maxBPTTstep(Math.max(m.rho, this.rho));
    return Array.from({ length: this.rho }, (_, t) => {
      try {
        return m.forward(input);
      } catch (e) {
        throw ModuleError.within(e, `${this.typeName} step ${t}`);
      }
    });
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}
