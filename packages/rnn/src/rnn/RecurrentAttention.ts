import { type Activity, describeActivity, flattenActivity, mapActivity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import { Container, indent } from '../module/Container.js';
import { type Tensor, WebrnnError, fmtShape, zeros } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { recordCustom } from '../reinforce/Reinforce.js';
import { AbstractRecurrent, oneLine } from './AbstractRecurrent.js';

/**
 * Element-research's nn.RecurrentAttention (Mnih et al. 2014, recurrent models of visual attention). For `nStep`
 * steps: the `action` module (e.g. a Sequential ending in ReinforceNormal) chooses an action from the previous
 * output of `rnn` (from zeros [N, ...hiddenSize] at the first step), and `rnn` takes {input, action}. The output is
 * the table of the rnn's nStep outputs ({output, action} pairs with `forwardActions`).
 *
 * Backward is one vector-Jacobian product over the unrolled steps. As in Torch, the rnn's gradient with respect
 * to the action is dropped (the action enters the rnn detached) and the action modules are backpropagated from a
 * dummy gradient (zeros here; Torch passes action.output, which REINFORCE modules ignore), so that their
 * REINFORCE gradient flows into the previous rnn output and on through time; with `forwardActions` the action
 * entries of gradOutput are used instead. Every output is tied to every action so that a backward through any
 * output (e.g. only the last, through SelectTable(-1)) reaches all actions.
 */
export class RecurrentAttention extends Container {
  /** Output {rnnOutput, action} per step instead of rnnOutput. */
  forwardActions = false;
  /** The last forward's actions, one per step. */
  actions: Activity[] = [];

  constructor(
    rnn: AbstractRecurrent,
    action: Module,
    readonly nStep: number,
    readonly hiddenSize: readonly number[],
  ) {
    super();
    const where = 'nn.RecurrentAttention';
    if (!(rnn instanceof AbstractRecurrent)) {
      throw new WebrnnError(
        where,
        `rnn must be an AbstractRecurrent (e.g. nn.Recurrent), got ${describe(rnn)}`,
      );
    }
    if (!(action instanceof Module))
      throw new WebrnnError(where, `action must be a module, got ${describe(action)}`);
    if (!Number.isInteger(nStep) || nStep < 1) {
      throw new WebrnnError(where, `nStep must be a positive integer, got ${nStep}`);
    }
    if (
      !Array.isArray(hiddenSize) ||
      hiddenSize.length === 0 ||
      hiddenSize.some((d) => !Number.isInteger(d) || d < 1)
    ) {
      throw new WebrnnError(
        where,
        `hiddenSize must be an array of positive sizes (e.g. [256]; table hidden layers are not supported), got ${JSON.stringify(hiddenSize)}`,
      );
    }
    this.add(rnn).add(action);
  }

  get rnn(): AbstractRecurrent {
    return this.modules[0] as AbstractRecurrent;
  }

  get action(): Module {
    return this.modules[1]!;
  }

  override updateOutput(input: Activity): Activity {
    let x: Tensor;
    try {
      x = floatTensor(input);
      if (x.rank < 1)
        throw new WebrnnError('input', `has shape ${fmtShape(x.shape)}, expected a batch [N, ...]`);
    } catch (e) {
      // Named on one line (Module.forward would name this module by its whole printed tree).
      throw e instanceof Error ? new ModuleError([oneLine(this)], e.message) : e;
    }
    const rnn = this.rnn;
    rnn.forget();
    rnn.maxBPTTstep(Math.max(rnn.rho, this.nStep));
    const outs: Tensor[] = [];
    const actions: Activity[] = [];
    for (let step = 0; step < this.nStep; step++) {
      const prev =
        step === 0
          ? zeros([x.shape[0]!, ...this.hiddenSize], { dtype: x.dtype, device: x.device })
          : outs[step - 1]!;
      let a: Activity;
      try {
        a = this.action.forward(prev);
      } catch (e) {
        throw ModuleError.within(e, `${this.typeName} step ${step} (action)`);
      }
      actions.push(a);
      let h: Activity;
      try {
        h = rnn.forward([x, mapActivity(a, (t) => t.detach())]);
      } catch (e) {
        throw ModuleError.within(e, `${this.typeName} step ${step} (rnn)`);
      }
      if (Array.isArray(h)) {
        throw new WebrnnError(
          'rnn',
          `returned a table ${describeActivity(h)}: table hidden layers are not supported`,
        );
      }
      outs.push(h as Tensor);
    }
    this.actions = actions;
    const acts = actions.flatMap(flattenActivity);
    const tied = outs.map((h) => tie(h, acts));
    return tied.map((h, i) => (this.forwardActions ? [h, actions[i]!] : h));
  }

  override backward(_input: Activity, gradOutput: Activity, scale = 1): Activity {
    if (this.output !== null && (!Array.isArray(gradOutput) || gradOutput.length !== this.nStep)) {
      throw ModuleError.wrap(
        new WebrnnError(
          'backward',
          `gradOutput is ${describeActivity(gradOutput)}, expected a table of nStep = ${this.nStep} gradients ` +
            `like the output ${describeActivity(this.output)}`,
        ),
        oneLine(this),
      );
    }
    // One vector-Jacobian product over the steps (Module's), stopping at the states the rnn started from.
    return this.runVjp('backward', gradOutput, scale, true);
  }

  override updateGradInput(input: Activity, gradOutput: Activity): Activity {
    return this.backward(input, gradOutput, 0);
  }

  override accGradParameters(input: Activity, gradOutput: Activity, scale = 1): void {
    const gi = this.gradInput;
    this.backward(input, gradOutput, scale);
    this.gradInput = gi;
  }

  /** As Torch's AbstractSequencer: leaving training forgets the rnn's state. */
  override evaluate(): this {
    if (this.train) this.rnn.forget();
    return super.evaluate();
  }

  override training(): this {
    if (!this.train) this.rnn.forget();
    return super.training();
  }

  override describe(): string {
    const pad = '  |    ';
    return [
      `${this.typeName} {`,
      `  action : ${indent(this.action.describe(), `  ${pad}`)}`,
      `  rnn     : ${indent(this.rnn.describe(), `  ${pad}`)}`,
      '}',
    ].join('\n');
  }
}

/**
 * `h` unchanged, tied on the tape to `actions`: the gradient of `h` flows on to `h`, and each action gets a zero
 * gradient, so that any backward through `h` also runs the actions' (REINFORCE) backward.
 */
function tie(h: Tensor, actions: readonly Tensor[]): Tensor {
  const live = actions.filter((a) => a.requiresGrad);
  if (live.length === 0 || !h.requiresGrad) return h;
  const metas = live.map((a) => ({ shape: a.shape, dtype: a.dtype, device: a.device }));
  return recordCustom(
    'RecurrentAttention.tie',
    [h, ...live],
    h.detach(),
    (g, _saved, needs) => [
      needs[0] ? g : null,
      ...metas.map((m, i) => (needs[i + 1] ? zeros(m.shape, { dtype: m.dtype, device: m.device }) : null)),
    ],
    [],
  );
}

function describe(v: unknown): string {
  return v instanceof Module ? v.typeName : String(v);
}
