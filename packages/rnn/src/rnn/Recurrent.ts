import type { Activity } from '../nn/activity.js';
import { Add } from '../nn/Add.js';
import { CAddTable } from '../nn/CAddTable.js';
import { WebrnnError } from '../nn/deps.js';
import { indent } from '../nn/Container.js';
import { Module } from '../nn/Module.js';
import { Sigmoid } from '../nn/Sigmoid.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';

/**
 * Element-research's nn.Recurrent: a generalised RNN layer.
 *
 *   h(1) = transfer(start(input(x(1))))
 *   h(t) = transfer(merge([input(x(t)), feedback(h(t-1))]))
 *
 * `start` is a module, or a size, which makes it nn.Add(size): a learned bias for the first step (Sutskever's
 * thesis, as in Torch). The state is h, which is also the output.
 */
export class Recurrent extends AbstractRecurrent {
  readonly startModule: Module;

  constructor(
    start: number | Module,
    readonly inputModule: Module,
    readonly feedbackModule: Module,
    readonly transferModule: Module = new Sigmoid(),
    rho = 5,
    readonly mergeModule: Module = new CAddTable(),
  ) {
    super(rho);
    for (const [name, m] of [
      ['input', inputModule],
      ['feedback', feedbackModule],
      ['transfer', transferModule],
      ['merge', mergeModule],
    ] as const) {
      if (!(m instanceof Module))
        throw new WebrnnError('nn.Recurrent', `${name} must be a module, got ${String(m)}`);
    }
    if (typeof start === 'number') {
      if (!Number.isInteger(start) || start <= 0) {
        throw new WebrnnError('nn.Recurrent', `start must be a module or a positive size, got ${start}`);
      }
      this.startModule = new Add(start);
    } else if (start instanceof Module) this.startModule = start;
    else
      throw new WebrnnError(
        'nn.Recurrent',
        `start must be a module or a positive size, got ${String(start)}`,
      );
    this.add(this.startModule).add(inputModule).add(feedbackModule).add(transferModule).add(mergeModule);
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const x = this.forwardChild(1, input);
    const pre =
      prevState === null
        ? this.forwardChild(0, x)
        : this.forwardChild(4, [x, this.forwardChild(2, prevState)]);
    const h = this.forwardChild(3, pre);
    return { output: h, state: h };
  }

  protected override initialState(): null {
    return null;
  }

  override describe(): string {
    const pad = '      ';
    return [
      `${this.typeName} {`,
      '  [{input(t), output(t-1)} -> (1) -> (2) -> (3) -> output(t)]',
      '  (1):  {',
      '    input(t)',
      `      |\`-> ${indent(this.inputModule.describe(), pad)}`,
      '    output(t-1)',
      `      |\`-> ${indent(this.feedbackModule.describe(), pad)}`,
      '  }',
      `  (2): ${indent(this.mergeModule.describe(), '  ')}`,
      `  (3): ${indent(this.transferModule.describe(), '  ')}`,
      '}',
    ].join('\n');
  }
}
