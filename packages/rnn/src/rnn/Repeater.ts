import { type Activity, describeActivity } from '../module/activity.js';
import { Container, indent } from '../module/Container.js';
import { WebrnnError } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';
import { Recursor } from './Recursor.js';

/**
 * Element-research's nn.Repeater: presents the same input to a recurrent module `rho` times (Torch's nStep); the
 * output is the table of the `rho` step outputs. A module that is not recurrent is wrapped in a Recursor. The
 * module forgets its state before each forward. Backward is one vector-Jacobian product over the unrolled steps
 * (as for Sequencer), so the input's gradient is the sum of every step's, as in Torch; the gradient with respect
 * to the initial state goes to the module's gradPrevState.
 */
export class Repeater extends Container {
  constructor(
    module: Module,
    public rho: number,
  ) {
    super();
    if (!(module instanceof Module)) {
      throw new WebrnnError('nn.Repeater', `expected a module to repeat, got ${String(module)}`);
    }
    if (!Number.isInteger(rho) || rho < 1) {
      throw new WebrnnError(
        'nn.Repeater',
        `rho (the number of steps) must be a positive integer, got ${rho}`,
      );
    }
    this.add(module instanceof AbstractRecurrent ? module : new Recursor(module));
  }

  get module(): AbstractRecurrent {
    return this.modules[0] as AbstractRecurrent;
  }

  /** Set the number of steps (Torch's Repeater hijacks rho the same way). */
  override maxBPTTstep(rho: number): this {
    if (!Number.isInteger(rho) || rho < 1) {
      throw new WebrnnError('maxBPTTstep', `rho must be a positive integer, got ${rho}`);
    }
    this.rho = rho;
    return this;
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

  override backward(_input: Activity, gradOutput: Activity, scale = 1): Activity {
    try {
      const ok = Array.isArray(gradOutput) && gradOutput.length === this.rho;
      if (this.output !== null && !ok) {
        throw new WebrnnError(
          'backward',
          `gradOutput is ${describeActivity(gradOutput)}, expected a table of ${this.rho} step gradients like the output ${describeActivity(this.output)}`,
        );
      }
    } catch (e) {
      throw ModuleError.wrap(e, this.typeName);
    }
    // One vector-Jacobian product over the unrolled steps (Module's), stopping at the initial states.
    return this.runVjp('backward', gradOutput, scale, true);
  }

  /** Torch's print (Repeater.lua's __tostring__). */
  override describe(): string {
    return [
      `${this.typeName} {`,
      '  [  input,    input,  ...,  input  ]',
      '       V         V             V     ',
      `  ${indent(this.module.describe(), '  ')}`,
      '       V         V             V     ',
      `  [output(1),output(2),...,output(${this.rho})]`,
      '}',
    ].join('\n');
  }
}
