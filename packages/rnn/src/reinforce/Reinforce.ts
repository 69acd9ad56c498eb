import type { Activity } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import { type Tensor, WebrnnError, cast, customOp, fmtShape, keep, noGrad, reshape } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * dpnn's nn.Reinforce: the base of modules trained with REINFORCE (Williams 1992). Forward samples an action
 * from a distribution parametrised by the input; a reward criterion (VRClassReward) later hands the reward to
 * every such module with `reinforce(module, reward)`; backward then yields the gradient of -reward * log f(output)
 * with respect to the input, ignoring the gradient coming from downstream, as dpnn does.
 *
 * On the tape: the output is recorded as a custom node whose backward reads the module's reward when it runs, so
 * that the one vector-Jacobian product of a container (Sequential, RecurrentAttention, Sequencer) sends the
 * REINFORCE gradient on to the modules before this one. A module used at several time steps leaves one node per
 * step, each with its own input and sample, and the one reward is broadcast to all steps (dpnn's
 * includingSharedClones). The node runs only when some gradient reaches the output (zeros will do): a
 * RecurrentAttention makes sure its actions are reached. Like dpnn's, the REINFORCE gradient ignores the
 * `scale` argument of backward.
 */
export abstract class Reinforce extends Module {
  /** The reward, [N] (one per example), set by `reinforce`. */
  reward: Tensor | null = null;

  /** `stochastic`: sample in evaluation mode too (by default evaluation uses a deterministic output). */
  constructor(public stochastic = false) {
    super();
  }

  /** Keep `reward` (detached) for the next backward; called by `reinforce(module, reward)`. */
  reinforce(reward: Tensor): void {
    if (reward.rank !== 1 || reward.dtype === 'int32') {
      throw new WebrnnError(
        `${this.typeName}.reinforce`,
        `reward must be a 1-D float tensor [N] (one per example), got ${fmtShape(reward.shape)} ${reward.dtype}`,
      );
    }
    const held = keep(reward.detach());
    this.reward?.dispose();
    this.reward = held;
  }

  /** The output in training (or stochastic) mode: a sample, computed without recording. */
  protected abstract sample(input: Activity): Tensor;

  /** The output in evaluation mode (dpnn: the mean, or the probabilities themselves). */
  protected abstract deterministic(input: Activity): Tensor;

  /**
   * Gradient of -reward * log f(output | input) with respect to each input tensor, written with ops
   * (`reward` already has the input's shape).
   */
  protected abstract reinforceGrad(inputs: readonly Tensor[], output: Tensor, reward: Tensor): Tensor[];

  override updateOutput(input: Activity): Activity {
    const ins = (Array.isArray(input) ? input : [input]).map((t, i) =>
      floatTensor(t as Activity, Array.isArray(input) ? `input[${i}]` : 'input'),
    );
    const stochastic = this.stochastic || this.train;
    const out = noGrad(() => (stochastic ? this.sample(input) : this.deterministic(input)));
    return recordCustom(this.typeName, ins, out, (_g, saved) => {
      const inputs = saved.slice(0, -1);
      const sampled = saved[saved.length - 1]!;
      return this.reinforceGrad(inputs, sampled, this.rewardAs(inputs[0]!));
    });
  }

  /** The reward seen with the shape of `x`: [N] broadcast over the other dimensions (dpnn's rewardAs). */
  rewardAs(x: Tensor): Tensor {
    const r = this.reward;
    if (!r) {
      throw new WebrnnError(
        this.typeName,
        'backward needs a reward: call reinforce(module, reward) (a reward criterion such as ' +
          'VRClassReward does it in its backward) before backward',
      );
    }
    if (r.device !== x.device) {
      throw new WebrnnError(this.typeName, `the reward is on ${r.device} but the input is on ${x.device}`);
    }
    const rr = r.dtype === x.dtype ? r : cast(r, x.dtype);
    if (x.rank === 1 && r.shape[0] === 1) return rr; // one example without a batch dimension
    if (x.rank === 0 || x.shape[0] !== r.shape[0]) {
      throw new WebrnnError(
        this.typeName,
        `the reward has ${r.shape[0]} entries but the input has shape ${fmtShape(x.shape)}: expected one reward ` +
          'per example (the input`s first dimension)',
      );
    }
    return reshape(rr, [r.shape[0]!, ...x.shape.slice(1).map(() => 1)]);
  }

  override clearState(): this {
    this.reward?.dispose();
    this.reward = null;
    return super.clearState();
  }
}

/**
 * dpnn's Module:reinforce(reward): hand `reward` ([N], one per example) to every Reinforce module in the tree
 * under `module` (itself included), found through `children()`. A function rather than a method because Torch
 * puts it on nn.Module, which this package keeps free of REINFORCE. A module used at several time steps gets one
 * reward for all of them. Returns the number of Reinforce modules reached (0 usually means a wiring mistake).
 */
export function reinforce(module: Module, reward: Tensor): number {
  if (!(module instanceof Module)) {
    throw new WebrnnError('reinforce', `expected a module, got ${String(module)}`);
  }
  let reached = 0;
  const seen = new Set<Module>();
  const stack: Module[] = [module];
  while (stack.length > 0) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (m instanceof Reinforce) {
      m.reinforce(reward);
      reached++;
    }
    stack.push(...m.children());
  }
  return reached;
}

/**
 * Put `output` (fresh, not on the tape) on the tape as the result of `inputs`, with `backward` receiving the
 * output's gradient and saved tensors (`saved` then the output) and returning one gradient (or null) per input.
 * Nothing is recorded when no input requires grad or recording is off.
 */
export function recordCustom(
  name: string,
  inputs: readonly Tensor[],
  output: Tensor,
  backward: (g: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[],
  saved: readonly Tensor[] = inputs,
): Tensor {
  customOp(name, inputs, [output], (grads, s, needs) => backward(grads[0]!, s, needs), [...saved, output]);
  return output;
}
