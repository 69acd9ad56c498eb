import type { Activity } from '../module/activity.js';
import { Container, indent } from '../module/Container.js';
import { type Tensor, WebrnnError, fmtShape, stack, unbind } from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { JoinTable } from '../nn/JoinTable.js';
import { Module } from '../module/Module.js';
import type { RememberMode } from './state.js';
import { SeqBRNN } from './SeqBRNN.js';
import { SeqRecurrent } from './SeqRecurrent.js';
import { reverseAlong, setBidirectionalMask } from './SeqReverseSequence.js';
import { Sequencer } from './Sequencer.js';

/** Modules that already take a whole sequence (Torch's isSeq: AbstractSequencers and nn.Seq* layers). */
export function isSeq(m: Module): boolean {
  return (
    m instanceof Sequencer ||
    m instanceof SeqRecurrent ||
    m instanceof SeqBRNN ||
    m instanceof BiSequencerBase
  );
}

/**
 * What BiSequencer and BiSequencerLM share: a forward sequence module, a backward one (by default a clone of
 * the forward one with re-initialised parameters, as Torch) that reads the sequence in reverse, and a merge
 * module applied to each step's pair of outputs through a Sequencer. Children: [fwdSeq, bwdSeq, mergeSeq].
 *
 * Backward is one vector-Jacobian product over the whole bidirectional graph, which also stops at, and reports,
 * the initial states of every recurrent module inside (as Sequencer's backward does).
 */
export abstract class BiSequencerBase extends Container {
  readonly forwardModule: Module;
  readonly backwardModule: Module;
  readonly mergeModule: Module;

  constructor(forward: Module, backward?: Module | null, merge?: Module | number | null) {
    super();
    const name = this.typeName;
    if (!(forward instanceof Module)) {
      throw new WebrnnError(name, `expected a module at arg 1 (forward), got ${String(forward)}`);
    }
    const bwd = backward ?? forward.clone().reset();
    if (!(bwd instanceof Module)) {
      throw new WebrnnError(
        name,
        `expected a module or nothing at arg 2 (backward), got ${String(backward)}`,
      );
    }
    let mergeModule: Module;
    if (merge === undefined || merge === null) mergeModule = new JoinTable(-1);
    else if (typeof merge === 'number') mergeModule = new JoinTable(0, merge);
    else if (merge instanceof Module) mergeModule = merge;
    else {
      throw new WebrnnError(
        name,
        `expected a module, a number or nothing at arg 3 (merge), got ${String(merge)}`,
      );
    }
    this.forwardModule = forward;
    this.backwardModule = bwd;
    this.mergeModule = mergeModule;
    this.add(isSeq(forward) ? forward : new Sequencer(forward));
    this.add(isSeq(bwd) ? bwd : new Sequencer(bwd));
    this.add(new Sequencer(mergeModule));
  }

  /** A mask of padded steps [T, N]: the backward module gets it reversed in time, as it sees the sequence. */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    setBidirectionalMask(this.fwdSeq, this.bwdSeq, zeroMask, 0);
    return this;
  }

  /** The forward sequence module (a Sequencer around `forward`, unless it took whole sequences already). */
  get fwdSeq(): Module {
    return this.modules[0]!;
  }

  /** The backward sequence module (it sees the sequence reversed). */
  get bwdSeq(): Module {
    return this.modules[1]!;
  }

  /** Sequencer(merge). */
  get mergeSeq(): Sequencer {
    return this.modules[2] as Sequencer;
  }

  /** torch/rnn's names. */
  getForward(): Module {
    return this.fwdSeq;
  }

  getBackward(): Module {
    return this.bwdSeq;
  }

  /**
   * As torch/rnn: the forward module may carry its state over to the next sequence; the backward one never does
   * (its state runs from the end of the sequence towards the start, which has no sense across sequences).
   */
  override remember(mode: RememberMode = 'both'): this {
    rememberOf(this.fwdSeq)?.call(this.fwdSeq, mode);
    rememberOf(this.bwdSeq)?.call(this.bwdSeq, 'neither');
    return this;
  }

  override forget(): this {
    for (const m of [this.fwdSeq, this.bwdSeq, this.mergeSeq]) {
      const f = (m as { forget?: () => unknown }).forget;
      if (typeof f === 'function') f.call(m);
    }
    return this;
  }

  /** Run child `i` (0 fwd, 1 bwd, 2 merge) naming the branch in any error. */
  protected branch(i: 0 | 1 | 2, input: Activity): Activity {
    try {
      return this.modules[i]!.forward(input);
    } catch (e) {
      const where = `${this.typeName} ${['forward', 'backward', 'merge'][i]}`;
      if (e instanceof ModuleError) throw ModuleError.within(e, where);
      throw e instanceof Error ? new ModuleError([where], e.message) : e;
    }
  }

  /** An error of this module's own input checks, named on one line. */
  protected inputError(reason: string): ModuleError {
    return new ModuleError([this.typeName], reason);
  }

  /** Merge step t of `fwd` with step t of `bwd` (arrays of equal length); a tensor sequence when `asTensor`. */
  protected mergeSteps(fwd: readonly Activity[], bwd: readonly Activity[], asTensor: boolean): Activity {
    if (fwd.length !== bwd.length) {
      throw this.inputError(
        `the forward module gave ${fwd.length} steps but the backward module ${bwd.length}: both must keep the sequence length`,
      );
    }
    const out = this.branch(
      2,
      fwd.map((f, t) => [f, bwd[t]!]),
    ) as Activity[];
    return asTensor ? stack(out as Tensor[]) : out;
  }

  override describe(): string {
    const pad = '  |    ';
    return [
      `${this.typeName} {`,
      `  forward:  ${indent(this.fwdSeq.describe(), `  ${pad}`)}`,
      `  backward: ${indent(this.bwdSeq.describe(), `  ${pad}`)}`,
      `  merge:    ${indent(this.mergeModule.describe(), `  ${pad}`)}`,
      '}',
    ].join('\n');
  }
}

/**
 * Element-research's nn.BiSequencer: `forward` runs over the sequence, `backward` over the reversed sequence (its
 * outputs reversed back), and step t of the output is merge([fwd_t, bwd_t]); by default the merge concatenates
 * the two along the last (feature) dimension, Torch's JoinTable(1, 1) for [H] and [N, H] steps. A number as
 * `merge` gives JoinTable(0, merge) as in Torch. The input is an array of steps or a tensor [T, N, ...]; the
 * output has the same form. Non-sequence modules are wrapped in Sequencers; sequence modules (Sequencer,
 * SeqLSTM, SeqGRU, ...) are used as they are.
 */
export class BiSequencer extends BiSequencerBase {
  override updateOutput(input: Activity): Activity {
    const asTensor = !Array.isArray(input);
    checkSequence(this, input, 1);
    const fwd = this.branch(0, input);
    const rev = asTensor ? reverseAlong(input as Tensor, 0) : [...(input as Activity[])].reverse();
    const bwdRev = this.branch(1, rev);
    const bwd = stepsOf(this, bwdRev, 'backward').reverse();
    return this.mergeSteps(stepsOf(this, fwd, 'forward'), bwd, asTensor);
  }
}

/** Check that `input` is a sequence of at least `min` steps (an array, or a tensor [T, ...]). */
export function checkSequence(m: BiSequencerBase, input: Activity, min: number): void {
  const n = Array.isArray(input)
    ? input.length
    : (input as Tensor).rank >= 1
      ? (input as Tensor).shape[0]!
      : -1;
  if (n < min) {
    const what = Array.isArray(input)
      ? `a table of ${input.length} steps`
      : `a tensor of shape ${fmtShape((input as Tensor).shape)}`;
    throw new ModuleError(
      [m.typeName],
      `input is ${what}, expected a sequence of at least ${min} step(s): an array of steps or a tensor [T, N, ...]`,
    );
  }
}

/** The steps of a branch's output: its entries, or its slices along the first dimension. */
export function stepsOf(m: BiSequencerBase, out: Activity, branch: string): Activity[] {
  if (Array.isArray(out)) return [...out];
  const t = out as Tensor;
  if (t.rank < 1) {
    throw new ModuleError([m.typeName], `the ${branch} module gave a scalar, expected a sequence [T, ...]`);
  }
  return unbind(t, 0);
}

function rememberOf(m: Module): ((mode: RememberMode) => unknown) | null {
  const f = (m as { remember?: (mode: RememberMode) => unknown }).remember;
  return typeof f === 'function' ? f : null;
}
