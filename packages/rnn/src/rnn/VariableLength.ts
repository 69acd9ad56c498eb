import { type Activity, describeActivity } from '../module/activity.js';
import { tensorTable } from '../module/checks.js';
import { Container } from '../module/Container.js';
import { type Tensor, WebrnnError, fmtShape, narrow, select, stack, tidy } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { Module } from '../module/Module.js';
import { oneLine } from './AbstractRecurrent.js';
import { padSequences } from './bucket.js';

/**
 * torch/rnn's nn.VariableLength: decorates a sequence module (a Sequencer, or any module taking [T, N, ...]) so
 * that it takes an array of N sequences of different lengths, each [Ti, ...] (float features, or int32 indices).
 * They are packed, left-aligned, into a zero-padded [Tmax, N, ...] batch with a zero mask [Tmax, N] (1 at padding,
 * Torch's convention), which is set with setZeroMask on the modules inside that take one (recurrent modules
 * reset their state and zero their output at padding), for the forward only. The output is an array of the
 * per-sequence outputs [Ti, ...], or with `lastOnly` the output of each sequence's last real step, [N, ...].
 * Backward sends the gradients back to each sequence. Torch packs several short sequences into one row; here
 * each sequence has its own row.
 */
export class VariableLength extends Container {
  constructor(
    module: Module,
    readonly lastOnly = false,
  ) {
    super();
    if (!(module instanceof Module)) {
      throw new WebrnnError('nn.VariableLength', `expected a module to decorate, got ${String(module)}`);
    }
    this.add(module);
  }

  get module(): Module {
    return this.modules[0]!;
  }

  override updateOutput(input: Activity): Activity {
    try {
      return this.run(input);
    } catch (e) {
      // Named on one line (Module.forward would name this module by its whole printed tree).
      if (e instanceof ModuleError || !(e instanceof Error)) throw e;
      throw new ModuleError([oneLine(this)], e.message);
    }
  }

  private run(input: Activity): Activity {
    const seqs = tensorTable(input, 1, 'input');
    const { input: padded, zeroMask, lengths } = padSequences(seqs);
    this.module.setZeroMask(zeroMask);
    let out: Activity;
    try {
      out = this.forwardChild(0, padded);
    } finally {
      this.module.setZeroMask(null);
      zeroMask.dispose();
    }
    const y = out as Tensor;
    if (Array.isArray(out) || y.rank < 2 || y.shape[0] !== padded.shape[0] || y.shape[1] !== seqs.length) {
      throw new WebrnnError(
        'output',
        `of the decorated module is ${describeActivity(out)}, expected a tensor [Tmax, N, ...] = ` +
          `[${padded.shape[0]}, ${seqs.length}, ...] for the padded input ${fmtShape(padded.shape)}`,
      );
    }
    return tidy(() => {
      const columns = lengths.map((_, i) => select(y, 1, i));
      if (this.lastOnly) return stack(columns.map((c, i) => select(c, 0, lengths[i]! - 1)));
      return columns.map((c, i) => narrow(c, 0, 0, lengths[i]!));
    });
  }

  override describe(): string {
    return `${this.typeName}${this.lastOnly ? '(lastOnly)' : ''} @ ${this.module.describe()}`;
  }
}
