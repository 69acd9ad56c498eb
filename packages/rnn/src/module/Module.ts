import {
  type Activity,
  describeActivity,
  flattenActivity,
  mapActivity,
  pairWithGradOutput,
  unflattenActivity,
} from './activity.js';
import {
  type DType,
  type DeviceName,
  Storage,
  Tensor,
  WebrnnError,
  boundary,
  getBackend,
  keep,
  mul,
  noGrad,
  tidy,
  zeros,
} from './deps.js';
import { ModuleError } from './errors.js';
import { scaledVjpObserving } from './backprop.js';
import { flattenInto, moveTensor } from './parameterStorage.js';
import { gradParamClip, gradParamClipAsync, maxParamNorm } from './paramNorms.js';
import {
  type RememberMode,
  type StepMarks,
  checkRememberMode,
  markSteps,
  refuseStepwise,
  stateHolders,
} from '../rnn/state.js';
import { className } from './className.js';

export type { RememberMode };

/** The modules whose forward is running, innermost last: a forward registers itself with its caller. */
const calling: Module[] = [];
/** Numbers every forward, so that a container can tell whether a module's last forward is still the one it called. */
let forwards = 0;

/**
 * Torch's nn.Module protocol, on the tape. `forward` runs `updateOutput` (written with ops, so it records) after
 * passing the input through a boundary node; `backward` is one vector-Jacobian product from the output back to
 * that boundary, which also accumulates the parameters' gradients (Torch's accGradParameters). The same module
 * therefore also works the modern way: its parameters are leaves that require grad, and `loss.backward()`
 * fills their `.grad`.
 *
 * Parameters keep their gradients in `.grad` from construction on (zeros), as Torch's gradWeight/gradBias do,
 * so that `getParameters()` can make both views into flat vectors.
 */
export abstract class Module<In extends Activity = Activity, Out extends Activity = Activity> {
  output: Out | null = null;
  gradInput: In | null = null;
  train = true;
  /** Parameters by name, in registration order. */
  protected readonly params = new Map<string, Tensor>();
  /** Buffers by name (see registerBuffer), in registration order. */
  protected readonly ownBuffers = new Map<string, Tensor>();
  /** The input as seen by the tape (behind boundary nodes), for backward. */
  protected boundaryInput: In | null = null;
  /** The step count of each step-wise module inside when the last forward began (see refuseStepwise). */
  private stepMarks: StepMarks = new Map();
  /** The number of this module's last forward (see `forwards`). */
  private forwardNumber = 0;
  /** The modules this one's last forward called, in call order, each with that forward's number and input. */
  // Stryker disable next-line ArrayDeclaration: read only after a forward, which replaces it (backward needs one).
  private callees: [Module, number, Activity][] = [];

  /** Torch's class name, e.g. 'nn.Linear'. */
  get typeName(): string {
    return `nn.${className(this.constructor)}`;
  }

  /** Child modules (containers and decorators override). */
  children(): readonly Module[] {
    return [];
  }

  /** Compute the output from the input with ops. Called by `forward`. */
  abstract updateOutput(input: In): Out;

  forward(input: In): Out {
    try {
      const seen = mapActivity(input, boundary) as In;
      const marks = markSteps(this);
      this.output = this.asCallee(seen, () => this.updateOutput(seen));
      this.boundaryInput = seen;
      this.stepMarks = marks;
      return this.output;
    } catch (e) {
      throw ModuleError.wrap(e, this.errorName());
    }
  }

  /**
   * Run one forward of this module on `seen` (its input as the tape sees it), registered with the module whose
   * forward called it, so that a backward through the caller can set this module's gradInput on the way (Torch
   * programs read an inner module's gradInput after a container's backward).
   */
  protected asCallee<T>(seen: Activity, run: () => T): T {
    // Stryker disable next-line UpdateOperator: the numbers only need to be distinct, counting down would do.
    const number = ++forwards;
    this.forwardNumber = number;
    this.callees = [];
    calling.at(-1)?.callees.push([this, number, seen]);
    calling.push(this);
    try {
      return run();
    } finally {
      calling.pop();
    }
  }

  /** @internal Whether a backward through a container above goes on to set the gradInput of this module's callees. */
  protected exposesCallees(): boolean {
    return true;
  }

  /**
   * The modules below this one whose gradInput this one's backward sets, with their inputs: every module its last
   * forward called, at any depth. A module called more than once gets the gradInput of its first call, as in
   * Torch, whose containers backpropagate from the last call to the first.
   */
  private innerPoints(): [Module, Activity][] {
    const out: [Module, Activity][] = [];
    const met = new Set<Module>();
    const visit = (m: Module) => {
      for (const [c, number, seen] of m.callees) {
        if (met.has(c)) continue;
        met.add(c);
        // Disposed: the caller ran it inside a tidy of its own and kept only what it needed.
        if (!flattenActivity(seen).some((t) => t.isDisposed)) out.push([c, seen]);
        // Its callees belong to its last forward: only that one's are this call's.
        if (c.exposesCallees() && c.forwardNumber === number) visit(c);
      }
    };
    visit(this);
    return out;
  }

  /**
   * @internal The gradInput a backward through a container above sets for this module, from the gradient at the
   * input it registered (`point`): that gradient itself, except where a module registers more than its input
   * (AbstractRecurrent after a whole-sequence forward takes the first step's).
   */
  gradInputAt(_point: Activity, grad: Activity): Activity {
    return grad;
  }

  /**
   * Gradient of the loss with respect to the input, given its gradient with respect to the output; also
   * accumulates `scale` times the parameters' gradients. Calls must follow a `forward` (the last one is used).
   */
  backward(_input: In, gradOutput: Out, scale = 1): In {
    return this.runVjp('backward', gradOutput, scale, true);
  }

  updateGradInput(_input: In, gradOutput: Out): In {
    return this.runVjp('updateGradInput', gradOutput, 1, false);
  }

  accGradParameters(_input: In, gradOutput: Out, scale = 1): void {
    const gi = this.gradInput;
    this.runVjp('accGradParameters', gradOutput, scale, true);
    this.gradInput = gi;
  }

  protected runVjp(op: string, gradOutput: Out, scale: number, accumulate: boolean): In {
    try {
      if (this.output === null || this.boundaryInput === null) {
        throw new WebrnnError(op, 'called before forward: there is no output to backpropagate from');
      }
      const [outs, gos] = pairWithGradOutput(op, this.output, gradOutput);
      const ins = flattenActivity(this.boundaryInput);
      // Recurrent modules here or inside: the backward stops at their initial states and takes their seeds.
      const holders = stateHolders(this);
      refuseStepwise(op, holders, this.stepMarks);
      const starts = holders.map((h) => h.stateStarts());
      const seeds = holders.flatMap((h) => h.stateSeeds());
      // accGradParameters leaves every gradInput as it was.
      const inner = op === 'accGradParameters' ? [] : this.innerPoints();
      const { inputs: grads, observed } = scaledVjpObserving(
        [...outs, ...seeds.map(([root]) => root)],
        [...gos, ...seeds.map(([, seed]) => seed)],
        [...ins, ...starts.flat()],
        inner.flatMap(([, point]) => flattenActivity(point)),
        scale,
        accumulate,
      );
      this.gradInput = unflattenActivity(this.boundaryInput, grads.slice(0, ins.length)) as In;
      let j = 0;
      for (const [m, point] of inner) {
        const n = flattenActivity(point).length;
        m.gradInput = m.gradInputAt(point, unflattenActivity(point, observed.slice(j, j + n)));
        j += n;
      }
      let k = ins.length;
      holders.forEach((h, i) => {
        const n = starts[i]!.length;
        h.receiveStateGrads(grads.slice(k, k + n));
        k += n;
      });
      return this.gradInput;
    } catch (e) {
      throw ModuleError.wrap(e, this.errorName());
    }
  }

  // ---- Element-research/rnn's recurrent state API, on every module: containers pass it on to their children ----

  /** Start a new sequence in every recurrent module inside (a no-op for modules without one). */
  forget(): this {
    for (const c of this.children()) c.forget();
    return this;
  }

  /** Keep the state from one sequence to the next in every recurrent module inside (see AbstractRecurrent). */
  remember(mode: RememberMode = 'both'): this {
    checkRememberMode(`${this.errorName()}.remember`, mode);
    for (const c of this.children()) c.remember(mode);
    return this;
  }

  /** Set how far back BPTT reaches in every recurrent module inside. */
  maxBPTTstep(rho: number): this {
    for (const c of this.children()) c.maxBPTTstep(rho);
    return this;
  }

  /**
   * As Torch's Module.getHiddenState: a container gives a table with its children's states (an empty table for a
   * child without a state, Torch's nil); a module without children has none (null).
   */
  getHiddenState(step?: number): Activity | null {
    const cs = this.children();
    return cs.length === 0 ? null : cs.map((c) => c.getHiddenState(step) ?? []);
  }

  /** A container's table of states (as getHiddenState gives it), one entry per child; null resets every child. */
  setHiddenState(state: Activity | null): void {
    this.eachChildState('setHiddenState', state, (c, s) => c.setHiddenState(s));
  }

  /** As getHiddenState, for the gradients with respect to the states. */
  getGradHiddenState(): Activity | null {
    const cs = this.children();
    return cs.length === 0 ? null : cs.map((c) => c.getGradHiddenState() ?? []);
  }

  /** As setHiddenState, for the gradients with respect to the states. */
  setGradHiddenState(grad: Activity | null): void {
    this.eachChildState('setGradHiddenState', grad, (c, g) => c.setGradHiddenState(g));
  }

  private eachChildState(
    op: string,
    table: Activity | null,
    set: (c: Module, s: Activity | null) => void,
  ): void {
    const cs = this.children();
    if (cs.length === 0) return;
    if (table !== null && (!Array.isArray(table) || table.length !== cs.length)) {
      throw new WebrnnError(
        `${this.errorName()}.${op}`,
        `got ${describeActivity(table)}, expected a table of ${cs.length} entries (one per child, {} for a child without a state)`,
      );
    }
    cs.forEach((c, i) => {
      const s = table === null ? null : (table as readonly Activity[])[i]!;
      set(c, Array.isArray(s) && s.length === 0 ? null : s);
    });
  }

  // ---- parameters -------------------------------------------------------------------------------------------

  /** Register a parameter: a leaf that requires grad, with a zero gradient, owned by the module (not by tidy). */
  protected registerParameter(name: string, value: Tensor): Tensor {
    keep(value);
    value.requiresGrad = true;
    value.grad = keep(zeros(value.shape, { dtype: value.dtype, device: value.device }));
    this.params.set(name, value);
    return value;
  }

  /**
   * Register a buffer, as PyTorch's register_buffer: state that is no parameter (no gradient, no optimiser) but
   * belongs to the model, such as batch normalisation's running statistics. io saves and loads it (named like a
   * parameter, e.g. `1.bnWx.runningMean`); to(), type() (floating buffers), clone() and dispose() carry it.
   */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    if (this.params.has(name) || this.ownBuffers.has(name)) {
      throw new WebrnnError(this.typeName, `already has a parameter or buffer named '${name}'`);
    }
    keep(value);
    this.ownBuffers.set(name, value);
    return value;
  }

  /** Own buffers, then children's, without duplicates (as `parameters()`). */
  buffers(): Tensor[] {
    const seen = new Set<Tensor>();
    const visit = (m: Module) => {
      for (const b of m.ownBuffers.values()) seen.add(b);
      for (const c of m.children()) visit(c);
    };
    visit(this);
    return [...seen];
  }

  protected param(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new WebrnnError(this.typeName, `has no parameter '${name}'`);
    return p;
  }

  /** Own parameters, then children's, without duplicates (shared parameters appear once). */
  parameters(): [Tensor[], Tensor[]] {
    const seen = new Set<Tensor>();
    const params: Tensor[] = [];
    const visit = (m: Module) => {
      for (const p of m.params.values()) {
        if (!seen.has(p)) {
          seen.add(p);
          params.push(p);
        }
      }
      for (const c of m.children()) visit(c);
    };
    visit(this);
    return [params, params.map((p) => p.grad!)];
  }

  /**
   * All parameters as one flat vector and all gradients as another (views: the parameters now live inside
   * them), as Torch's getParameters, so that an optimiser can work on one vector.
   */
  getParameters(): [Tensor, Tensor] {
    const [params] = this.parameters();
    if (params.length === 0) throw new WebrnnError('getParameters', `${this.typeName} has no parameters`);
    const flat = flattenInto(params, (p) => p);
    const flatGrad = flattenInto(params, (p) => p.grad!);
    return [flat, flatGrad];
  }

  zeroGradParameters(): void {
    noGrad(() => {
      for (const g of this.parameters()[1]) g.zero_();
    });
  }

  /** Plain SGD step: p -= lr * grad. */
  updateParameters(learningRate: number): void {
    const [params, grads] = this.parameters();
    noGrad(() =>
      tidy(() => {
        params.forEach((p, i) => p.sub_(mul(grads[i]!, learningRate)));
      }),
    );
  }

  // ---- modes, copies, devices ----------------------------------------------------------------------------

  training(): this {
    this.train = true;
    for (const c of this.children()) c.training();
    return this;
  }

  evaluate(): this {
    this.train = false;
    for (const c of this.children()) c.evaluate();
    return this;
  }

  /** Move parameters (and their gradients) to a device, keeping their identity. */
  to(device: DeviceName): this {
    getBackend(device);
    for (const p of this.parameters()[0]) {
      moveTensor(p, device, p.dtype);
      moveTensor(p.grad!, device, p.dtype);
    }
    for (const b of this.buffers()) moveTensor(b, device, b.dtype);
    return this;
  }

  /** Convert floating-point parameters to another dtype (Torch's :double(), :float()). */
  type(dtype: DType): this {
    if (dtype === 'int32') throw new WebrnnError('type', 'parameters must be float32 or float64');
    for (const p of this.parameters()[0]) {
      moveTensor(p, p.device, dtype);
      moveTensor(p.grad!, p.device, dtype);
    }
    // Floating buffers only (an int32 buffer counts), as PyTorch; children convert theirs below.
    for (const b of this.ownBuffers.values()) if (b.dtype !== 'int32') moveTensor(b, b.device, dtype);
    // Children too (their parameters have moved already), so that modules with typed state (nn.Copy) follow.
    for (const c of this.children()) c.type(dtype);
    return this;
  }

  float(): this {
    return this.type('float32');
  }

  double(): this {
    return this.type('float64');
  }

  /** Re-initialise the parameters (each module defines how). */
  reset(_stdv?: number): this {
    for (const c of this.children()) c.reset();
    return this;
  }

  /** Forget outputs and gradients held for backward (they are released once nothing else holds them). */
  clearState(): this {
    this.output = null;
    this.gradInput = null;
    this.boundaryInput = null;
    this.callees = [];
    for (const c of this.children()) c.clearState();
    return this;
  }

  /**
   * Free everything the module owns: its parameters and their gradients (here and in its children; GPU buffers
   * return to the pool) and any state held for backward. The module cannot be used afterwards; modules sharing
   * its parameters (sharedClone) lose them too. Also `using m = new nn.Linear(...)`.
   */
  dispose(): void {
    this.clearState();
    for (const p of this.parameters()[0]) {
      // Stryker disable next-line OptionalChaining: registerParameter and clone give every parameter a gradient.
      p.grad?.dispose();
      p.dispose();
    }
    for (const b of this.buffers()) b.dispose();
    // State that outlives clearState (batch normalisation's running statistics), here and in every child.
    const seen = new Set<Module>();
    const visit = (m: Module) => {
      if (seen.has(m)) return;
      seen.add(m);
      m.disposeOwnedState();
      m.children().forEach(visit);
    };
    visit(this);
  }

  /** Free tensors the module owns that are neither parameters nor cleared by clearState (dispose calls it). */
  protected disposeOwnedState(): void {}

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Torch's setZeroMask: give the modules inside an explicit mask of padded steps (non-zero = padding), or turn
   * it off with null/false. Containers pass it to their children; recurrent modules, MaskZero and the
   * whole-sequence layers take it.
   */
  setZeroMask(zeroMask: Tensor | null | false): this {
    for (const c of this.children()) c.setZeroMask(zeroMask);
    return this;
  }

  /** A deep copy with its own parameters. */
  clone(): this {
    return cloneModule(this, false);
  }

  /** A copy that shares this module's parameters and gradients (Element-research/rnn's sharedClone). */
  sharedClone(): this {
    return cloneModule(this, true);
  }

  /** One line naming the module, as Torch prints it (e.g. 'nn.Linear(7 -> 10)'). */
  describe(): string {
    return this.typeName;
  }

  /** How errors name this module: its description when that fits on one line, else its class name. */
  errorName(): string {
    const d = this.describe();
    return d.includes('\n') ? this.typeName : d;
  }

  toString(): string {
    return this.describe();
  }

  /** `console.log(m)` in Node prints Torch's description, not the internal fields (no node:util import needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- dpnn's parameter norms (the work is in paramNorms.ts) ------------------------------------------------

  /** dpnn's per-module settings: when set, they replace the arguments of gradParamClip / maxParamNorm here. */
  cutoffNorm?: number;
  moduleLocal?: boolean;
  maxOutNorm?: number;
  maxInNorm?: number;

  /**
   * dpnn's Module:gradParamClip: if the L2 norm of the parameters' gradients exceeds `cutoffNorm`, scale them in
   * place down to it; returns the norm before clipping. With `moduleLocal`, each child clips its own (see
   * paramNorms.ts). Reads the norm synchronously (the CPU); on WebGPU use gradParamClipAsync.
   */
  gradParamClip(cutoffNorm: number, moduleLocal = false): number {
    return gradParamClip(this, [...this.params.values()], cutoffNorm, moduleLocal);
  }

  /** gradParamClip for devices that read asynchronously (WebGPU). */
  gradParamClipAsync(cutoffNorm: number, moduleLocal = false): Promise<number> {
    return gradParamClipAsync(this, [...this.params.values()], cutoffNorm, moduleLocal);
  }

  /**
   * dpnn's Module:maxParamNorm: renormalise every parameter of two or more dimensions so that each row has an L2
   * norm of at most `maxOutNorm` and each column at most `maxInNorm` (Torch's renorm); returns the module.
   */
  maxParamNorm(maxOutNorm?: number, maxInNorm?: number): this {
    maxParamNorm(this, [...this.params.values()], maxOutNorm, maxInNorm);
    return this;
  }
}

/**
 * Copy a module tree: modules and plain containers are copied field by field; parameters are cloned (or shared),
 * other tensors cloned; outputs and gradients are not carried over. A memo keeps shared references shared.
 */
function cloneModule<T extends Module>(root: T, share: boolean): T {
  const memo = new Map<unknown, unknown>();
  const copy = (v: unknown, key?: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (memo.has(v)) return memo.get(v);
    if (key === 'output' || key === 'gradInput' || key === 'boundaryInput') return null;
    // The last forward's callees hold its inputs: a copy of them would be kept tensors that nothing disposes.
    // Stryker disable next-line ArrayDeclaration: as the field's initial value, read only after the clone's forward.
    if (key === 'callees') return [];
    // Stryker disable next-line ConditionalExpression: a Storage is no plain object either, so the last line returns it too.
    if (v instanceof Storage) return v;
    if (v instanceof Tensor) {
      const t = v;
      if (t.isDisposed) return null;
      const isParam = t.requiresGrad && t.isLeaf;
      if (share && isParam) return t;
      const c = keep(noGrad(() => t.clone()));
      if (isParam) {
        c.requiresGrad = true;
        c.grad = keep(zeros(c.shape, { dtype: c.dtype, device: c.device }));
      }
      memo.set(v, c);
      return c;
    }
    if (v instanceof Map) {
      const m = new Map();
      memo.set(v, m);
      for (const [k, x] of v) m.set(k, copy(x));
      return m;
    }
    if (Array.isArray(v)) {
      const a: unknown[] = [];
      memo.set(v, a);
      for (const x of v) a.push(copy(x));
      return a;
    }
    if (v instanceof Module || Object.getPrototypeOf(v) === Object.prototype) {
      const o = Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>;
      memo.set(v, o);
      for (const k of Object.keys(v)) o[k] = copy((v as Record<string, unknown>)[k], k);
      return o;
    }
    return v; // functions, generators and other shared helpers
  };
  return copy(root) as T;
}
