import { type Activity, flattenActivity } from '../module/activity.js';
import { Add } from '../nn/Add.js';
import { CAddTable } from '../nn/CAddTable.js';
import { WebrnnError, fmtShape } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { Sigmoid } from '../nn/Sigmoid.js';
import { AbstractRecurrent } from './AbstractRecurrent.js';

/**
 * Element-research's nn.Recurrent: a generalised RNN layer.
 *
 *   h(1) = transfer(start(input(x(1))))
 *   h(t) = transfer(merge([input(x(t)), feedback(h(t-1))]))
 *
 * `start` is a module, or a size or shape, which makes it nn.Add(size): a learned bias for the first step (Sutskever's
 * thesis, as in Torch). The state is h, which is also the output. The first step after forget() (or the first
 * of a Sequencer's sequence that does not remember) goes through `start`; with a remembered state or one set by
 * setHiddenState, every step goes through `merge` and `feedback`.
 */
export class Recurrent extends AbstractRecurrent {
  readonly startModule: Module;

  constructor(
    start: number | readonly number[] | Module,
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
    const isShape = (v: unknown): v is readonly number[] =>
      Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d > 0);
    if ((typeof start === 'number' && Number.isInteger(start) && start > 0) || isShape(start)) {
      this.startModule = new Add(start);
    } else if (start instanceof Module) this.startModule = start;
    else {
      throw new WebrnnError(
        'nn.Recurrent',
        `start must be a module, a positive size or a shape of positive sizes, got ${Array.isArray(start) ? `[${start.join(', ')}]` : String(start)}`,
      );
    }
    // Torch's order of modules (and so of parameters): start, input, feedback, transfer, merge.
    this.add(this.startModule).add(inputModule).add(feedbackModule).add(transferModule).add(mergeModule);
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const x = this.forwardChild(1, input);
    let pre: Activity;
    if (prevState === null) pre = this.forwardChild(0, x);
    else {
      this.checkBatch(x, prevState);
      pre = this.forwardChild(4, [x, this.forwardChild(2, prevState)]);
    }
    const h = this.forwardChild(3, pre);
    return { output: h, state: h };
  }

  /** The input module's output and the previous output must have the same batch size (first dimension). */
  private checkBatch(x: Activity, prevState: Activity): void {
    const a = flattenActivity(x)[0];
    const b = flattenActivity(prevState)[0];
    if (!a || !b || a.rank < 2 || a.rank !== b.rank || a.shape[0] === b.shape[0]) return;
    throw new ModuleError(
      [this.typeName],
      `input: has batch size ${a.shape[0]} (the input module gives ${fmtShape(a.shape)}), but the previous output ` +
        `has batch size ${b.shape[0]} (${fmtShape(b.shape)}): the batch size cannot change within a sequence; ` +
        'call forget() to start a new one',
    );
  }

  protected override initialState(): null {
    return null;
  }

  /**
   * Torch's print, character for character (Recurrent.lua's __tostring__), including its indentation of the
   * continuation lines of a multi-line start or input module (four spaces, not six as for feedback).
   */
  override describe(): string {
    const under = (m: Module, pad: string) => m.describe().replace(/\n/g, `\n${pad}`);
    return [
      `${this.typeName} {`,
      '  [{input(t), output(t-1)} -> (1) -> (2) -> (3) -> output(t)]',
      '  (1):  {',
      '    input(t)',
      `      |\`-> (t==0): ${under(this.startModule, '    |    ')}`,
      `      |\`-> (t~=0): ${under(this.inputModule, '    |    ')}`,
      '    output(t-1)',
      `      |\`-> ${under(this.feedbackModule, '      |    ')}`,
      '  }',
      `  (2): ${under(this.mergeModule, '  ')}`,
      `  (3): ${under(this.transferModule, '  ')}`,
      '}',
    ].join('\n');
  }
}
