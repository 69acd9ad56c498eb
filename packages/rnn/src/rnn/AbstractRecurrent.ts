import {
  type Activity,
  describeActivity,
  flattenActivity,
  mapActivity,
  unflattenActivity,
} from '../module/activity.js';
import { scaledVjp } from '../module/backprop.js';
import { Container } from '../module/Container.js';
import {
  type Tensor,
  WebrnnError,
  boundary,
  fmtShape,
  keep,
  mul,
  noGrad,
  select,
  tidy,
} from '../module/deps.js';
import { ModuleError } from '../module/errors.js';
import { maskStep, stepKeepFromInput, stepKeepFromMask } from './masking.js';
import type { Module } from '../module/Module.js';
import { type RememberMode, type StateBoundaries, checkRememberMode, remembers } from './state.js';

export type { RememberMode };

/** What one training step leaves for backward: handles that outlive the caller's tidy scopes. */
interface StepRecord {
  /** The step's input and previous state, behind boundary nodes. */
  readonly input: Activity;
  readonly prevState: Activity | null;
  readonly output: Activity;
  readonly state: Activity | null;
  /** Made by forwardSequence: one op for the whole sequence, so no per-step graph to backpropagate alone. */
  readonly wholeSequence?: boolean;
}

/** What a module's sequenceForward gives: the outputs [T, N, ...] and each step's output and state (views). */
export interface SequenceResult {
  readonly output: Tensor;
  readonly steps: readonly { readonly output: Activity; readonly state: Activity | null }[];
}

/**
 * Element-research/rnn's AbstractRecurrent: each `forward` is one time step; `backward` calls come in reverse
 * order of the forwards and reach back at most `rho` steps.
 *
 * On the tape, each step's graph joins the previous step's through a boundary node on the previous state, so
 * `loss.backward()` over a whole unrolled sequence does full BPTT. Torch-style `backward(input, gradOutput)` runs
 * one vector-Jacobian product per step that stops at that step's input and previous-state boundaries, for this
 * module and every recurrent module inside it, and carries the state gradients to the step before. The graph is
 * cut (the previous state detached) every `rho` steps and at the start of each Sequencer sequence, so memory stays
 * bounded. In evaluation mode nothing is recorded and only the last state is kept.
 */
export abstract class AbstractRecurrent<In extends Activity = Activity, Out extends Activity = Activity>
  extends Container<In, Out>
  implements StateBoundaries
{
  /** Number of forward steps since the last forget(). */
  step = 0;
  /** Forward steps since construction (never reset): which container forward made which step. */
  private totalSteps = 0;
  rememberMode: RememberMode = 'neither';
  /** Gradient with respect to the initial state, once backward has gone back to the first step. */
  gradPrevState: Activity | null = null;
  /** Initial state to use instead of zeros (encoder-decoder coupling: userPrevOutput / userPrevCell). */
  userState: Activity | null = null;
  /**
   * The state set by setHiddenState before the first step: Torch's step-0 state, used by the next step only and
   * cleared by forget() (unlike userState, which every sequence starts from).
   */
  private startState: Activity | null = null;

  private records: StepRecord[] = [];
  /** records[backCursor - 1] is the next step to backpropagate through. */
  private backCursor = 0;
  /** Gradient with respect to the state of records[backCursor - 1], carried from the later step. */
  private carried: Activity | null = null;
  /** Parameter gradients of the steps updateGradInput went through, newest step first, for accGradParameters. */
  private pendingParamGrads: (Tensor[] | null)[] = [];
  /** The state after the last step (the next step's previous state). */
  private state: Activity | null = null;
  private stepsSinceCut = 0;
  private cutNext = false;
  /**
   * How many steps are kept for backward: the largest `rho` any forward has seen (Torch's count of step clones,
   * which never shrinks), so that lowering rho with maxBPTTstep between a forward and its backward loses nothing.
   */
  private capacity = 0;
  /** Backward calls since the last forward (each forward restarts backward from the newest step, as Torch). */
  private backwardCalls = 0;
  /** Mask steps whose input row is all zeros (maskZero). */
  maskzero = false;
  private maskNInputDim: number | undefined;
  /** The input a whole-sequence forward registered with its caller (see gradInputAt). */
  private sequencePoint: Tensor | null = null;
  /** Explicit [T, N] mask (setZeroMask), non-zero where a step is padding; row zeroMaskStep is the next step's. */
  private zeroMask: Tensor | null = null;
  private zeroMaskStep = 0;

  constructor(public rho = 99999) {
    super();
    if (!Number.isInteger(rho) || rho < 1)
      throw new WebrnnError(this.typeName, `rho must be a positive integer, got ${rho}`);
  }

  /** One time step, written with ops (see the class comment). */
  protected abstract stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity | null };

  /** The state before the first step, sized for this input (null for modules without a state of their own). */
  protected abstract initialState(input: Activity): Activity | null;

  /**
   * Whether `input` [T, N, ...] (a whole sequence) can run through sequenceForward in the current mode; false when
   * the module has no sequence op (the default) or this call is one it does not cover (the step path then runs,
   * and gives its errors).
   */
  protected canForwardSequence(_input: Tensor): boolean {
    return false;
  }

  /** The whole sequence `input` [T, N, ...] from `prevState`, as T steps would compute it (see forwardSequence). */
  protected sequenceForward(_input: Tensor, _prevState: Activity | null): SequenceResult {
    throw new WebrnnError(this.typeName, 'has no whole-sequence forward');
  }

  /** Not used: recurrent modules step through `forward`. */
  override updateOutput(input: In): Out {
    return this.forward(input);
  }

  override forward(input: In): Out {
    try {
      const keepRows = this.stepKeep(input);
      // Evaluation keeps no history and has no backward: the step runs on the input and state themselves,
      // without boundary nodes (a tape node and a handle per tensor per step) and under noGrad.
      const tape = this.train;
      const seen = tape ? mapActivity(input, boundary) : input;
      const prev = this.state ?? this.startState ?? this.userState ?? this.initialState(input);
      // A cut detaches the previous state, so the tape does not reach into older steps.
      const cut = this.cutNext;
      const prevSeen =
        prev && tape ? mapActivity(prev, (t) => (cut ? detachedBoundary(t) : boundary(t))) : prev;
      this.cutNext = false;
      const run = () => this.stepForward(seen, prevSeen);
      let { output, state } = this.asCallee(seen, () => (tape ? run() : noGrad(run)));
      if (keepRows) {
        // A masked sample's output and next state are zero: its state is reset, its gradients are zero.
        ({ output, state } = maskStep(keepRows, output, state, 'step'));
        keepRows.dispose();
      }
      const next = state ? holdActivity(state) : null;
      if (this.state) disposeActivity(this.state);
      this.state = next;
      this.setStartState(null);
      this.step++;
      this.totalSteps++;
      if (tape) this.keepStep(seen, prevSeen, output, state);
      this.output = output as Out;
      return output as Out;
    } catch (e) {
      throw ModuleError.wrap(e, oneLine(this));
    }
  }

  /**
   * @internal A whole sequence [T, N, ...] in one go (Sequencer tries it before stepping): the outputs [T, N, ...],
   * and the same state, kept steps, gradients and errors as T calls of forward, from the module's sequence op
   * (FastLSTM: lstmSequence, a handful of tape nodes where stepping records dozens per step). Null when the
   * module has none or does not cover this call (masking, or the module's own conditions): then nothing changed.
   */
  forwardSequence(input: Tensor): Tensor | null {
    if (this.zeroMask || this.maskzero || !this.canForwardSequence(input)) return null;
    try {
      const tape = this.train;
      const T = input.shape[0]!;
      const first = noGrad(() => select(input, 0, 0));
      const prev = this.state ?? this.startState ?? this.userState ?? this.initialState(first);
      const cut = this.cutNext;
      const prevSeen =
        prev && tape ? mapActivity(prev, (t) => (cut ? detachedBoundary(t) : boundary(t))) : prev;
      this.cutNext = false;
      const seen = tape ? boundary(input) : input;
      // A backward through the Sequencer sets this module's gradInput from `seen`'s: the first step's (gradInputAt).
      this.sequencePoint = seen;
      const run = () => this.sequenceForward(seen, prevSeen);
      const { output, steps } = this.asCallee(seen, () => (tape ? run() : noGrad(run)));
      const last = steps[T - 1]!;
      const next = last.state ? holdActivity(last.state) : null;
      if (this.state) disposeActivity(this.state);
      this.state = next;
      this.setStartState(null);
      this.step += T;
      this.totalSteps += T;
      if (tape) {
        steps.forEach((s, t) => {
          const x = noGrad(() => select(seen, 0, t));
          this.keepStep(x, t === 0 ? prevSeen : steps[t - 1]!.state, s.output, s.state, true);
        });
      }
      this.output = last.output as Out;
      return output;
    } catch (e) {
      throw ModuleError.wrap(e, oneLine(this));
    }
  }

  /** After a whole-sequence forward, a container's backward gives this module the first step's gradInput. */
  override gradInputAt(point: Activity, grad: Activity): Activity {
    return point === this.sequencePoint ? select(grad as Tensor, 0, 0) : grad;
  }

  /**
   * Torch's maskZero: a step whose input row (a sample of the input's first tensor, depth first) is all zeros gives
   * a zero output and a zero next state for that sample, as if the sequence were forgotten there. `nInputDim` is the
   * number of dimensions of one sample (0 for index inputs); without it, a 1-D input is one sample and the first
   * dimension of a larger one is the batch.
   */
  maskZero(nInputDim?: number): this {
    if (nInputDim !== undefined && (!Number.isInteger(nInputDim) || nInputDim < 0)) {
      throw new WebrnnError(
        `${oneLine(this)}.maskZero`,
        `nInputDim must be a non-negative integer, got ${nInputDim}`,
      );
    }
    this.maskzero = true;
    this.maskNInputDim = nInputDim;
    return this;
  }

  /**
   * Element-research's trimZero: in Torch, maskZero's result computed on the non-padding rows only (nn.TrimZero
   * around the step module). Here each step already runs as one fused op on the whole batch and the state keeps
   * every row, so trimming would save nothing: this is maskZero(nInputDim), with its exact semantics.
   */
  trimZero(nInputDim?: number): this {
    return this.maskZero(nInputDim);
  }

  /**
   * torch/rnn's setZeroMask: `zeroMask` [T, N] is non-zero where step t of sample n is padding (masked as by
   * maskZero); step t of each sequence (counted from forget() or the start of a Sequencer pass) reads row t. It
   * replaces the zero-row test until setZeroMask(null) (or false), and applies to the recurrent modules inside.
   */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    if (zeroMask && zeroMask.rank !== 2) {
      throw new ModuleError(
        [oneLine(this)],
        `setZeroMask: zeroMask has shape ${fmtShape(zeroMask.shape)}, expected [T, N] (steps, batch)`,
      );
    }
    for (const m of [this, ...recurrentDescendants(this)]) {
      m.zeroMask?.dispose();
      m.zeroMask = zeroMask ? keep(zeroMask.handle()) : null;
      m.zeroMaskStep = 0;
    }
    return this;
  }

  /** 1 for the samples this step keeps, 0 for the masked ones ([N], or [] without a batch); null: no masking. */
  private stepKeep(input: Activity): Tensor | null {
    if (!this.zeroMask && !this.maskzero) return null;
    const x = flattenActivity(input)[0];
    // Stryker disable next-line ConditionalExpression: every recurrent module here takes at least one tensor.
    if (!x) return null;
    if (!this.zeroMask) return stepKeepFromInput(x, this.maskNInputDim);
    return stepKeepFromMask(x, this.zeroMask, this.zeroMaskStep++);
  }

  private keepStep(
    input: Activity,
    prevState: Activity | null,
    output: Activity,
    state: Activity | null,
    wholeSequence = false,
  ): void {
    this.records.push({
      input: holdActivity(input),
      prevState: prevState && holdActivity(prevState),
      output: holdActivity(output),
      state: state && holdActivity(state),
      wholeSequence,
    });
    this.capacity = Math.max(this.capacity, this.rho);
    if (this.records.length > this.capacity) disposeRecord(this.records.shift()!);
    this.backCursor = this.records.length;
    this.backwardCalls = 0;
    this.setCarried(null);
    this.clearPending();
    if (++this.stepsSinceCut >= this.rho) {
      this.cutNext = true;
      this.stepsSinceCut = 0;
    }
  }

  /**
   * Backpropagate through the latest step not yet backpropagated. Steps older than the kept ones (`rho`, or the
   * largest rho a forward has seen) get a zero gradInput and add nothing to the parameters' gradients (truncated
   * BPTT). More backward calls than forward steps since forget() is an error.
   */
  override backward(input: In, gradOutput: Out, scale = 1): In {
    return this.stepBackward('backward', input, gradOutput, scale, 'accumulate');
  }

  /**
   * Torch's step-wise updateGradInput: backward's gradInput for the latest step not yet backpropagated, without
   * touching the parameters' gradients; the step's parameter gradients wait for the matching accGradParameters.
   */
  override updateGradInput(input: In, gradOutput: Out): In {
    return this.stepBackward('updateGradInput', input, gradOutput, 1, 'stash');
  }

  /**
   * Torch's step-wise accGradParameters: adds `scale` times the parameter gradients of the step the oldest
   * unmatched updateGradInput went through (so updateGradInput then accGradParameters per step, in reverse order,
   * equals backward; as does every updateGradInput first, then every accGradParameters).
   */
  override accGradParameters(_input: In, _gradOutput: Out, scale = 1): void {
    try {
      if (this.pendingParamGrads.length === 0) {
        throw new WebrnnError(
          'accGradParameters',
          'called without a matching updateGradInput since the last forward: call updateGradInput(input, gradOutput) ' +
            'then accGradParameters(input, gradOutput) for each step, in reverse order',
        );
      }
      const grads = this.pendingParamGrads.shift()!;
      if (!grads) return;
      const params = this.parameters()[0];
      noGrad(() =>
        tidy(() => {
          params.forEach((p, i) => {
            // Stryker disable next-line ConditionalExpression: a product with 1 is exact; the test saves an op.
            p.grad!.add_(scale === 1 ? grads[i]! : mul(grads[i]!, scale));
          });
        }),
      );
      for (const g of grads) g.dispose();
    } catch (e) {
      throw ModuleError.wrap(e, oneLine(this));
    }
  }

  private clearPending(): void {
    for (const gs of this.pendingParamGrads) for (const g of gs ?? []) g.dispose();
    this.pendingParamGrads = [];
  }

  private stepBackward(
    op: string,
    input: In,
    gradOutput: Out,
    scale: number,
    params: 'accumulate' | 'stash',
  ): In {
    try {
      if (!this.train) {
        throw new WebrnnError(op, 'called in evaluation mode, which keeps no history; call training() first');
      }
      if (this.step === 0) throw new WebrnnError(op, 'called before forward');
      if (this.backwardCalls >= this.step) {
        throw new WebrnnError(
          op,
          `called ${this.backwardCalls + 1} times but there were only ${this.step} forward step(s) since forget(): ` +
            'call backward once per forward step, in reverse order',
        );
      }
      const family = [this, ...recurrentDescendants(this)].filter((m) => m.backCursor > 0);
      const rec = this.records[this.backCursor - 1];
      if (!rec) {
        this.backwardCalls++;
        if (params === 'stash') this.pendingParamGrads.push(null);
        this.gradInput = mapActivity(input, (t) => noGrad(() => t.mul(0))) as In;
        return this.gradInput;
      }
      if (rec.wholeSequence) {
        throw new WebrnnError(
          op,
          'the sequence ran as one whole-sequence op (nn.Sequencer over a tensor), which has no per-step graph: ' +
            "backpropagate it with the Sequencer's backward, or step through the sequence with forward to go back step by step",
        );
      }
      const outs = flattenActivity(rec.output);
      const gos = flattenActivity(gradOutput);
      if (gos.length !== outs.length || outs.some((o, i) => o.shape.join() !== gos[i]!.shape.join())) {
        throw new WebrnnError(
          op,
          `gradOutput is ${describeActivity(gradOutput)}, expected the step output's ${describeActivity(rec.output)}`,
        );
      }
      const roots = [...outs];
      const seeds = [...gos];
      const inputs = flattenActivity(rec.input);
      const stateInputs: { m: AbstractRecurrent; prev: Activity }[] = [];
      for (const m of family) {
        const r = m.records[m.backCursor - 1]!;
        if (r.state && m.carried) {
          roots.push(...flattenActivity(r.state));
          seeds.push(...flattenActivity(m.carried));
        }
        if (r.prevState) {
          stateInputs.push({ m, prev: r.prevState });
          inputs.push(...flattenActivity(r.prevState));
        }
      }
      const nOwn = inputs.length;
      const ps = params === 'stash' ? this.parameters()[0] : [];
      const grads = scaledVjp(roots, seeds, [...inputs, ...ps], scale, params === 'accumulate');
      if (params === 'stash') this.pendingParamGrads.push(grads.slice(nOwn).map((g) => keep(g)));
      this.backwardCalls++;
      const nIn = flattenActivity(rec.input).length;
      // Stryker disable next-line MethodExpression: unflattenActivity takes the first nIn anyway; the slice says which.
      this.gradInput = unflattenActivity(rec.input, grads.slice(0, nIn)) as In;
      let k = nIn;
      for (const m of family) m.backCursor--;
      for (const { m, prev } of stateInputs) {
        const n = flattenActivity(prev).length;
        const g = holdActivity(unflattenActivity(prev, grads.slice(k, k + n)));
        k += n;
        m.setCarried(g);
        if (m.backCursor === 0) m.setGradPrevState(holdActivity(g));
      }
      return this.gradInput;
    } catch (e) {
      throw ModuleError.wrap(e, oneLine(this));
    }
  }

  private setCarried(g: Activity | null): void {
    if (this.carried) disposeActivity(this.carried);
    this.carried = g;
  }

  private setGradPrevState(g: Activity | null): void {
    if (this.gradPrevState) disposeActivity(this.gradPrevState);
    this.gradPrevState = g;
  }

  // ---- state management (Torch's API) ----------------------------------------------------------------------

  /** Start a new sequence: drop the state, the history and the carried gradients (here and inside). */
  override forget(): this {
    for (const m of [this, ...recurrentDescendants(this)]) m.forgetOwn();
    return this;
  }

  private forgetOwn(): void {
    for (const r of this.records) disposeRecord(r);
    this.records = [];
    if (this.state) disposeActivity(this.state);
    this.state = null;
    this.setStartState(null);
    this.setCarried(null);
    this.clearPending();
    this.backCursor = 0;
    this.step = 0;
    this.backwardCalls = 0;
    this.stepsSinceCut = 0;
    this.cutNext = false;
    this.zeroMaskStep = 0;
  }

  /**
   * Keep the state from one sequence to the next: in training and evaluation ('both'), only in one of them, or
   * never ('neither', the default). Read by Sequencer.
   */
  override remember(mode: RememberMode = 'both'): this {
    checkRememberMode('remember', mode);
    for (const m of [this, ...recurrentDescendants(this)]) m.rememberMode = mode;
    return this;
  }

  /** Whether the state carries over to the next sequence in the current mode. */
  get remembering(): boolean {
    return remembers(this.rememberMode, this.train);
  }

  /** Set how far back BPTT reaches, here and inside. */
  override maxBPTTstep(rho: number): this {
    for (const m of [this, ...recurrentDescendants(this)]) m.rho = Math.max(1, rho);
    return this;
  }

  /** @internal Detach the state from the graph of earlier steps (keeping its value), here and inside. */
  cutGraph(): void {
    for (const m of [this, ...recurrentDescendants(this)]) {
      m.cutNext = true;
      m.stepsSinceCut = 0;
      m.zeroMaskStep = 0;
      for (const r of m.records) disposeRecord(r);
      m.records = [];
      m.backCursor = 0;
      m.setCarried(null);
      m.clearPending();
    }
  }

  /** The state after the last step (or the initial state override before any step), or after step `step`. */
  override getHiddenState(step?: number): Activity | null {
    if (step === undefined || step === this.step - 1) return this.state ?? this.startState ?? this.userState;
    // Torch's getHiddenState(step), 0-based: the state after forward step `step` since forget(), or (step -1)
    // the initial state, while the steps are kept for backward (training mode, the last rho steps).
    const first = this.step - this.records.length;
    if (Number.isInteger(step) && step >= first - 1 && step < this.step) {
      return step === first - 1 ? this.records[0]!.prevState : this.records[step - first]!.state;
    }
    const kept =
      this.records.length > 0 ? `steps ${first - 1}..${this.step - 1}` : `only step ${this.step - 1}`;
    throw new WebrnnError(
      `${this.typeName}.getHiddenState`,
      `step ${step} is not kept: after ${this.step} forward step(s) ${kept} are (training keeps the last rho steps, evaluation only the latest)`,
    );
  }

  /**
   * Replace the state the next step starts from. Before the first step it is Torch's step-0 state: this sequence
   * starts from it, and forget() clears it (userPrevOutput / userPrevCell set a start for every sequence).
   */
  override setHiddenState(state: Activity | null): void {
    const held = state ? holdActivity(state) : null;
    if (this.state) disposeActivity(this.state);
    this.state = null;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: state and startState are read together (state ?? startState), both cleared by forget() and the next step; the split says what Torch's step-0 state is.
    if (this.step === 0) this.setStartState(held);
    else this.state = held;
  }

  private setStartState(s: Activity | null): void {
    if (this.startState) disposeActivity(this.startState);
    this.startState = s;
  }

  /** The gradient with respect to the state of the step to be backpropagated next (or the initial state). */
  override getGradHiddenState(): Activity | null {
    return this.backCursor === 0 ? this.gradPrevState : this.carried;
  }

  /** Add a gradient for the state of the step to be backpropagated next (a decoder's gradient into an encoder). */
  override setGradHiddenState(grad: Activity | null): void {
    this.setCarried(grad ? holdActivity(grad) : null);
  }

  /** The modules inside run once per step: their gradInput stays their own (set by the step-wise backward). */
  protected override exposesCallees(): boolean {
    return false;
  }

  /** @internal Step outputs kept for backward, oldest first (Sequencer reads them). */
  recordedOutputs(): Activity[] {
    // Stryker disable next-line ArrowFunction: its only caller (GatedRecurrent) reads the length.
    return this.records.map((r) => r.output);
  }

  /** @internal Previous-state boundaries of the oldest kept step (where a Sequencer's gradient stops). */
  firstPrevState(): Activity | null {
    return this.records[0]?.prevState ?? null;
  }

  /** @internal After a whole-sequence backward: the gradient with respect to the initial state. */
  finishSequenceBackward(gradPrev: Activity | null): void {
    this.backCursor = 0;
    this.setCarried(null);
    this.setGradPrevState(gradPrev ? holdActivity(gradPrev) : null);
  }

  /** @internal Forward steps since construction (StateBoundaries). */
  stepCount(): number {
    return this.totalSteps;
  }

  /** @internal Steps kept for backward (StateBoundaries). */
  keptSteps(): number {
    return this.records.length;
  }

  // ---- state boundaries: a whole-sequence backward through a container above (Sequencer, Sequential, ...) ----

  /** The state the oldest kept step started from: the backward stops there. */
  stateStarts(): readonly Tensor[] {
    const s = this.firstPrevState();
    return s ? flattenActivity(s) : [];
  }

  /**
   * A gradient given by setGradHiddenState (a decoder's, into an encoder) seeds the newest kept state, as it does
   * in the step-wise backward; receiveStateGrads then consumes it.
   */
  stateSeeds(): readonly (readonly [Tensor, Tensor])[] {
    const rec = this.records[this.backCursor - 1];
    if (!this.carried || !rec?.state) return [];
    const states = flattenActivity(rec.state);
    const grads = flattenActivity(this.carried);
    if (grads.length !== states.length || states.some((s, i) => s.shape.join() !== grads[i]!.shape.join())) {
      throw new WebrnnError(
        `${this.typeName}.setGradHiddenState`,
        `the gradient is ${describeActivity(this.carried)}, expected the last state's ${describeActivity(rec.state)}`,
      );
    }
    return states.map((s, i) => [s, grads[i]!] as const);
  }

  /** Its gradient becomes gradPrevState; the step-wise backward starts afresh. */
  receiveStateGrads(grads: readonly Tensor[]): void {
    const s = this.firstPrevState();
    this.finishSequenceBackward(s ? unflattenActivity(s, grads) : null);
  }

  override clearState(): this {
    this.forgetOwn();
    this.setGradPrevState(null);
    // The mask is a held handle: released here (dispose() calls this) as MaskZero releases its own.
    this.zeroMask?.dispose();
    this.zeroMask = null;
    return super.clearState();
  }
}

/** A module's name for error messages: its description when that fits on one line, else its class name. */
export function oneLine(m: Module): string {
  const d = m.describe();
  return d.includes('\n') ? m.typeName : d;
}

/** Recurrent modules below `m` (at any depth), each once. */
export function recurrentDescendants(m: Module): AbstractRecurrent[] {
  const out: AbstractRecurrent[] = [];
  const seen = new Set<Module>();
  const stack = [...m.children()];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    if (c instanceof AbstractRecurrent) out.push(c);
    stack.push(...c.children());
  }
  return out;
}

function detachedBoundary(t: Tensor): Tensor {
  // A state that is one step of a whole-sequence output is copied out, so that the next sequence does not keep
  // the last one's [T, N, H] storages alive through it.
  const d = t.size < t.storage.size ? noGrad(() => t.clone()) : t.detach();
  const b = boundary(d);
  d.dispose();
  return b;
}

/** Handles on every tensor of an activity, at the same places in the graph, owned by the module. */
function holdActivity(a: Activity): Activity {
  return mapActivity(a, (t) => keep(t.handle()));
}

function disposeActivity(a: Activity): void {
  for (const t of flattenActivity(a)) t.dispose();
}

function disposeRecord(r: StepRecord): void {
  for (const a of [r.input, r.prevState, r.output, r.state]) if (a) disposeActivity(a);
}

export type { Tensor };
