import { type Activity, describeActivity } from '../module/activity.js';
import { positiveInt } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  boundary,
  fmtShape,
  keep,
  noGrad,
  reshape,
  transpose,
  zeros,
} from '../module/deps.js';
import { keepFromZeroMask, nonZeroRows } from './masking.js';
import { Module } from '../module/Module.js';
import { type RememberMode, type StateBoundaries, checkRememberMode, remembers } from './state.js';

/** What one whole-sequence run produces: the outputs [T, N, R] and the final states (tape tensors). */
export interface SequenceRun {
  readonly output: Tensor;
  readonly finals: readonly Tensor[];
}

/**
 * What SeqLSTM and SeqGRU share (Element-research's whole-sequence layers): input [T, N, D] (or [N, T, D] with
 * `batchfirst`), optionally preceded by the initial states in a table; initial states from the input, from
 * `userPrev*`, from the previous sequence (`remember`), or zeros; masking of padded steps (`maskzero`, or an
 * explicit `setZeroMask`); and the gradient hooks of encoder-decoder coupling: after `backward`, `userGradPrev*`
 * hold the gradients with respect to the initial states, and `gradPrevOutput` / `userNextGradCell`, when set,
 * add gradients with respect to the last step's states (they are consumed by that backward).
 *
 * States are listed output first: [h] for a GRU, [h, c] for an LSTM (the input table lists them the other way
 * round, as Torch: [c0, h0, x]).
 */
export abstract class SeqRecurrent extends Module<Activity, Tensor> implements StateBoundaries {
  /** Input and output as [N, T, ...] instead of [T, N, ...]. */
  batchfirst = false;
  /** Steps whose input row is all zeros are masked (zero output, zero state after them). */
  maskzero = false;
  rememberMode: RememberMode = 'neither';

  /** The states the next sequence starts from when remembering (detached, owned here). */
  private remembered: Tensor[] | null = null;
  /** Boundaries of the initial states not given in the input (their gradients go to userGradPrev*). */
  private starts: (Tensor | null)[] = [];
  /** The last step's states on the tape (where gradPrevOutput / userNextGradCell are seeded). */
  private finals: Tensor[] = [];
  /** Gradients with respect to the initial states, after backward. */
  private startGrads: (Tensor | null)[] = [];
  private zeroMask: Tensor | null = null;
  /** User overrides of the initial states, consumed by the next forward. */
  protected readonly userStates: (Tensor | null)[];
  /** Extra gradients for the final states, consumed by the next backward. */
  protected readonly userFinalGrads: (Tensor | null)[];

  protected constructor(
    readonly inputSize: number,
    /** The size of each state, output first: [H] (GRU), [R, H] (LSTM). */
    protected readonly stateSizes: readonly number[],
  ) {
    super();
    positiveInt(new.target.name, 'inputSize', inputSize);
    stateSizes.forEach((s) => positiveInt(new.target.name, 'outputSize', s));
    this.userStates = stateSizes.map(() => null);
    this.userFinalGrads = stateSizes.map(() => null);
  }

  /** Initial output h0 [N, R] for the next forward instead of zeros or the remembered state (used once, as Torch). */
  get userPrevOutput(): Tensor | null {
    return this.userStates[0]!;
  }
  set userPrevOutput(h: Tensor | null) {
    this.userStates[0] = h;
  }
  /** After backward: the gradient with respect to h0. */
  get userGradPrevOutput(): Tensor | null {
    return this.startGrad(0);
  }
  /** A gradient with respect to the last output, added by the next backward (a decoder's, into an encoder). */
  get gradPrevOutput(): Tensor | null {
    return this.userFinalGrads[0]!;
  }
  set gradPrevOutput(g: Tensor | null) {
    this.userFinalGrads[0] = g;
  }

  /** Run the layer over x [T, N, D] from the given initial states, masked by keep [T, N, 1] (1 = keep). */
  protected abstract run(x: Tensor, starts: readonly Tensor[], keepMask: Tensor | null): SequenceRun;

  override updateOutput(input: Activity): Tensor {
    const { x: xIn, given } = this.unpack(input);
    if (xIn.rank !== 3 || xIn.shape[2] !== this.inputSize || xIn.dtype === 'int32') {
      throw new WebrnnError(
        'input',
        `has shape ${describeActivity(xIn)}, expected a float ${this.batchfirst ? '[N, T, ' : '[T, N, '}${this.inputSize}] sequence`,
      );
    }
    const x = this.batchfirst ? transpose(xIn, 0, 1) : xIn;
    const [T, N] = x.shape as [number, number];
    if (T === 0 || N === 0)
      throw new WebrnnError('input', `has shape ${fmtShape(xIn.shape)}: T and N must be >= 1`);
    const remembering = this.remembering;
    if (remembering && this.remembered && this.remembered[0]!.shape[0] !== N) {
      throw new WebrnnError(
        'remember',
        `the batch size changed from ${this.remembered[0]!.shape[0]} to ${N} while remembering states; call forget() first`,
      );
    }
    this.releaseStarts();
    const starts = this.stateSizes.map((size, k) => {
      const g = given[k];
      const user = this.userStates[k];
      const from = g ? 'input' : user ? 'userPrev' : null;
      const s = g ?? user;
      if (s && (s.rank !== 2 || s.shape[0] !== N || s.shape[1] !== size)) {
        throw new WebrnnError(
          from === 'input' ? 'initial state' : this.userName(k),
          `has shape ${fmtShape(s.shape)}, expected [${N}, ${size}] for an input of shape ${fmtShape(xIn.shape)}`,
        );
      }
      if (g) {
        this.starts.push(null);
        return g;
      }
      const init =
        user ??
        (remembering && this.remembered
          ? this.remembered[k]!
          : zeros([N, size], { dtype: x.dtype, device: x.device }));
      const b = keep(boundary(init));
      if (init !== user && init !== this.remembered?.[k]) init.dispose();
      this.starts.push(b);
      return b;
    });
    // As Torch, the user's initial states serve one forward.
    this.userStates.fill(null);
    const keepMask = this.keepMask(x);
    const { output, finals } = this.run(x, starts, keepMask);
    keepMask?.dispose();
    this.setFinals(finals);
    return this.batchfirst ? transpose(output, 0, 1) : output;
  }

  /** Whether the states carry over to the next sequence in the current mode. */
  get remembering(): boolean {
    return remembers(this.rememberMode, this.train);
  }

  /** Keep the states from one sequence to the next ('both', 'train', 'eval') or not ('neither', the default). */
  override remember(mode: RememberMode = 'both'): this {
    checkRememberMode(`${this.typeName}.remember`, mode);
    this.rememberMode = mode;
    return this;
  }

  /** The next sequence starts from zero states. */
  override forget(): this {
    this.setRemembered(null);
    return this;
  }

  /** Torch's name for forget() on the whole-sequence layers. */
  resetStates(): this {
    return this.forget();
  }

  /** As Torch: switching between training and evaluation forgets the states. */
  override training(): this {
    if (!this.train) this.forget();
    return super.training();
  }

  override evaluate(): this {
    if (this.train) this.forget();
    return super.evaluate();
  }

  /** Mask steps with a zero input row (Torch's maskZero). */
  maskZero(): this {
    this.maskzero = true;
    return this;
  }

  /** Element-research's trimZero: maskZero's result; a whole-sequence layer runs every row in one op, so as maskZero. */
  trimZero(): this {
    return this.maskZero();
  }

  /**
   * Mask explicitly (Torch's setZeroMask): `zeroMask` [T, N] ([N, T] with batchfirst) is 1 (or any non-zero) where
   * a step is padding, 0 where it is real; it applies to every following forward until set to null.
   */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    this.zeroMask?.dispose();
    this.zeroMask = zeroMask ? keep(zeroMask.handle()) : null;
    return this;
  }

  /** keep [T, N, 1]: 0 at masked steps, 1 elsewhere (null when nothing is masked); the masks of nn/masking.ts. */
  private keepMask(x: Tensor): Tensor | null {
    const [T, N] = x.shape as [number, number];
    if (this.zeroMask) {
      const m = this.batchfirst ? transpose(this.zeroMask, 0, 1) : this.zeroMask;
      if (m.shape.join() !== [T, N].join()) {
        throw new WebrnnError(
          'zeroMask',
          `has shape ${fmtShape(this.zeroMask.shape)}, expected ${this.batchfirst ? `[${N}, ${T}]` : `[${T}, ${N}]`} for the input`,
        );
      }
      return keepColumn(keepFromZeroMask(m, x.dtype, x.device));
    }
    if (!this.maskzero) return null;
    return keepColumn(nonZeroRows(x, 2, x.dtype));
  }

  // ---- state boundaries: how any backward through this layer (its own or a container's) treats its states ----

  stateStarts(): readonly Tensor[] {
    return this.starts.filter((s): s is Tensor => s !== null);
  }

  stateSeeds(): readonly (readonly [Tensor, Tensor])[] {
    const seeds: [Tensor, Tensor][] = [];
    this.userFinalGrads.forEach((g, k) => {
      if (!g) return;
      const f = this.finals[k];
      if (!f) throw new WebrnnError(this.finalGradName(k), 'is set but there was no forward to add it to');
      if (g.shape.join() !== f.shape.join()) {
        throw new WebrnnError(
          this.finalGradName(k),
          `has shape ${fmtShape(g.shape)}, expected the last step's ${fmtShape(f.shape)}`,
        );
      }
      seeds.push([f, g]);
    });
    // As Torch, they serve one backward.
    this.userFinalGrads.fill(null);
    return seeds;
  }

  receiveStateGrads(grads: readonly Tensor[]): void {
    let k = 0;
    this.setStartGrads(this.starts.map((s) => (s ? grads[k++]! : null)));
  }

  /** Its own backward also reports the gradients of initial states given in the input (Torch's grad_h0, grad_c0). */
  protected override runVjp(op: string, gradOutput: Tensor, scale: number, accumulate: boolean): Activity {
    const gradInput = super.runVjp(op, gradOutput, scale, accumulate);
    const given = this.unpack(gradInput).given;
    if (given.length > 0)
      this.setStartGrads(this.stateSizes.map((_, i) => given[i] ?? this.startGrads[i] ?? null));
    return gradInput;
  }

  /** Gradient with respect to the initial state k after backward (k = 0: the output h0). */
  protected startGrad(k: number): Tensor | null {
    return this.startGrads[k] ?? null;
  }

  /** The last step's state k on the tape (k = 0: the output). */
  protected finalState(k: number): Tensor | null {
    return this.finals[k] ?? null;
  }

  /** The input's parts: x and the given initial states, output first. */
  protected abstract unpack(input: Activity): { x: Tensor; given: (Tensor | undefined)[] };

  private userName(k: number): string {
    return k === 0 ? 'userPrevOutput' : 'userPrevCell';
  }

  private finalGradName(k: number): string {
    return k === 0 ? 'gradPrevOutput' : 'userNextGradCell';
  }

  private setFinals(finals: readonly Tensor[]): void {
    for (const f of this.finals) f.dispose();
    this.finals = finals.map((f) => keep(f.handle()));
    this.setRemembered(noGrad(() => finals.map((f) => keep(f.detach()))));
  }

  private setRemembered(states: Tensor[] | null): void {
    for (const s of this.remembered ?? []) s.dispose();
    this.remembered = states;
  }

  private releaseStarts(): void {
    for (const s of this.starts) s?.dispose();
    this.starts = [];
  }

  private setStartGrads(grads: (Tensor | null)[]): void {
    // New handles first: `grads` may hold the current ones.
    const old = this.startGrads;
    this.startGrads = grads.map((g) => (g ? keep(g.handle()) : null));
    for (const g of old) g?.dispose();
  }

  override clearState(): this {
    this.releaseStarts();
    for (const f of this.finals) f.dispose();
    this.finals = [];
    this.setStartGrads([]);
    this.forget();
    // The mask is a held handle: released here (dispose() calls this) as MaskZero releases its own.
    this.setZeroMask(null);
    return super.clearState();
  }
}

/** [T, N] -> [T, N, 1], owned by the caller (the [T, N] mask is freed). */
function keepColumn(keep2: Tensor): Tensor {
  const k = noGrad(() => reshape(keep2, [...keep2.shape, 1]).detach());
  keep2.dispose();
  return k;
}
