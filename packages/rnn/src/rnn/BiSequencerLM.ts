import { type Activity, mapActivity } from '../module/activity.js';
import { type Tensor, WebrnnError, narrow, zeros } from '../module/deps.js';
import { BiSequencerBase, checkSequence, stepsOf } from './BiSequencer.js';
import { reverseAlong } from './SeqReverseSequence.js';

/**
 * Element-research's nn.BiSequencerLM, a bidirectional language model in which no step sees its own word: the
 * forward module runs over steps 0..T-2, the backward module over steps T-1..1 (reversed), and output step t is
 *
 *   merge([fwd output after step t-1 (zeros at t = 0), bwd output after step t+1 (zeros at t = T-1)])
 *
 * so output t depends on every input step but t. The output has T steps, like the input (at least 2); each step's
 * size is the merge's (by default the concatenation, fwd size + bwd size). The gradInput of step 0 comes from the
 * forward module only, that of step T-1 from the backward module only. Input: an array of steps (Torch) or a
 * tensor [T, N, ...] (the output is then a tensor too). Not to be stacked for language modelling: stack the
 * forward and backward modules themselves, as Torch advises.
 */
export class BiSequencerLM extends BiSequencerBase {
  /** Not supported: the shifted outputs would need the mask shifted with them, which Torch never defined. */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    if (zeroMask) {
      throw new WebrnnError(
        `${this.typeName}.setZeroMask`,
        'masks of padded steps are not supported by BiSequencerLM',
      );
    }
    return super.setZeroMask(zeroMask);
  }

  override updateOutput(input: Activity): Activity {
    checkSequence(this, input, 2);
    const asTensor = !Array.isArray(input);
    let fwdIn: Activity;
    let bwdIn: Activity;
    if (asTensor) {
      const x = input as Tensor;
      const T = x.shape[0]!;
      fwdIn = narrow(x, 0, 0, T - 1);
      bwdIn = reverseAlong(narrow(x, 0, 1, T - 1), 0);
    } else {
      const steps = input as readonly Activity[];
      fwdIn = steps.slice(0, -1);
      bwdIn = steps.slice(1).reverse();
    }
    const fwd = stepsOf(this, this.branch(0, fwdIn), 'forward');
    const bwd = stepsOf(this, this.branch(1, bwdIn), 'backward').reverse();
    // Constant zero padding, shaped like the branch outputs it stands in for.
    const pad = (a: Activity) => mapActivity(a, (t) => zeros(t.shape, { dtype: t.dtype, device: t.device }));
    return this.mergeSteps([pad(fwd[0]!), ...fwd], [...bwd, pad(bwd[0]!)], asTensor);
  }
}
