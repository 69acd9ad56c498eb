import fc from 'fast-check';
import { type Activity, type Tensor, manualSeed, nn, tensor } from '@webrnn/rnn';
import type {
  OpCase,
  OpEntry,
  RunContext,
  RunResult,
  Tolerance,
} from '../../../core/test/differential/cases.js';
import { rng } from '../../../core/test/differential/runner.js';

/**
 * How the differential harness of @webrnn/core (packages/core/test/differential) sees an nn module or criterion:
 * an OpEntry whose `op` is the export's name in `nn`. Its `run` builds the module from a seed the same way on
 * every configuration (on the CPU in float32, then `.type(float)` and `.to(device)`: every configuration starts
 * from the same float32 weights), calls it the Torch way and hands the module to the harness to dispose.
 */

/** The case's parameters every module entry draws: the seed of its weights and of its gradOutput. */
export interface Seeds {
  readonly seed: number;
  readonly gradSeed: number;
}

export const seedsArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  gradSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

/** Build `make()` from `seed` on the CPU in float32, then convert it to this run's dtype and device. */
export function build<M extends nn.Module>(ctx: RunContext, seed: number, make: () => M): M {
  manualSeed(seed);
  const m = make();
  ctx.own(m);
  return m.type(ctx.float).to(ctx.device);
}

/** Criterions free what they keep between calls (a reward, a mask) with dispose(): the leak check covers it. */
export function ownCriterion<C extends nn.Criterion>(ctx: RunContext, c: C): C {
  ctx.own(c);
  return c;
}

/** The tensors of an activity (Torch's nested tables), depth first. */
export function flat(a: Activity): Tensor[] {
  return Array.isArray(a) ? (a as readonly Activity[]).flatMap(flat) : [a as Tensor];
}

/** A gradOutput shaped like `like` (a tensor or a table), values in [-2, 2] exact in float32, from `seed`. */
export function gradOutputFor(like: Activity, seed: number, ctx: RunContext): Activity {
  const u = rng(seed);
  const make = (t: Tensor): Tensor =>
    tensor(
      Array.from({ length: t.size }, () => Math.fround(u() * 4 - 2)),
      { shape: t.shape, dtype: ctx.float, device: ctx.device },
    );
  const map = (a: Activity): Activity =>
    Array.isArray(a) ? (a as readonly Activity[]).map(map) : make(a as Tensor);
  return map(like);
}

// ---- tolerances ------------------------------------------------------------------------------------------------

/**
 * A module's tolerance against the float64 reference. `terms` is the longest sum of products it makes (a
 * matmul's K, a batch summed into a weight's gradient), `depth` how many layers of rounding chain up (each step
 * of a recurrence is one: errors carried in the state compound). Relative to the largest result, as core's
 * `summed()`; a wrong layout or a missing term moves results by their own size, far beyond this.
 */
export const chained = (terms: number, depth = 1): Tolerance => ({
  rtol: 2e-5 * depth,
  ftol: 4e-7 * (terms + 4) * depth,
});

// ---- entries ---------------------------------------------------------------------------------------------------

export interface ModuleCase<P> {
  /** The inputs the harness draws (and reaches through views); the module's input is built from them. */
  readonly inputs: OpCase['inputs'];
  readonly params: P;
}

export interface ModuleSpec<P extends Seeds> {
  /** The export of `nn` this entry calls. */
  readonly name: string;
  readonly label?: string;
  /** Its inputs and parameters (the seeds are added); `make`, `input` and `tol` read the parameters as P. */
  readonly gen: fc.Arbitrary<ModuleCase<object>>;
  /** The module (built on the CPU in float32; `build` converts and moves it). */
  readonly make: (p: P, ctx: RunContext) => nn.Module;
  /** The module's input from the harness's tensors (default: the first). */
  readonly input?: (xs: readonly Tensor[], p: P) => Activity;
  /** Called before forward (evaluate(), setZeroMask...). */
  readonly prepare?: (m: nn.Module, xs: readonly Tensor[], p: P, ctx: RunContext) => void;
  readonly tol: Tolerance | ((p: P) => Tolerance);
  readonly specials?: boolean;
}

const withSeeds = (gen: fc.Arbitrary<ModuleCase<object>>) =>
  fc.tuple(gen, seedsArb).map(([c, s]): OpCase => ({ inputs: c.inputs, params: { ...c.params, ...s } }));

const tolOf =
  <P extends Seeds>(spec: ModuleSpec<P>) =>
  (c: OpCase): Tolerance =>
    typeof spec.tol === 'function' ? spec.tol(c.params as P) : spec.tol;

/** forward(input): outputs are the output's tensors, watched tensors the module's parameters. */
export function forwardEntry<P extends Seeds>(spec: ModuleSpec<P>): OpEntry {
  return {
    op: spec.name,
    ...(spec.label ? { label: spec.label } : {}),
    gen: withSeeds(spec.gen),
    run: (xs, p: P, ctx): RunResult => {
      const m = build(ctx, p.seed, () => spec.make(p, ctx));
      spec.prepare?.(m, xs, p, ctx);
      const out = m.forward(spec.input ? spec.input(xs, p) : xs[0]!);
      return { outputs: flat(out), watch: m.parameters()[0] };
    },
    tol: tolOf(spec),
    ...(spec.specials === false ? { specials: false } : {}),
  };
}

/**
 * Torch's protocol: forward, then `backward(input, gradOutput)` with a seeded gradOutput. The outputs are the
 * output, the gradInput and copies of the parameters' gradients as backward left them (accGradParameters).
 */
export function backwardEntry<P extends Seeds>(spec: ModuleSpec<P>): OpEntry {
  return {
    op: spec.name,
    label: `${spec.label ? `${spec.label}, ` : ''}forward + backward(input, gradOutput)`,
    gen: withSeeds(spec.gen),
    run: (xs, p: P, ctx): RunResult => {
      const m = build(ctx, p.seed, () => spec.make(p, ctx));
      spec.prepare?.(m, xs, p, ctx);
      const input = spec.input ? spec.input(xs, p) : xs[0]!;
      const out = m.forward(input);
      const gradInput = m.backward(input, gradOutputFor(out, p.gradSeed, ctx));
      const [params, grads] = m.parameters();
      return { outputs: [...flat(out), ...flat(gradInput), ...grads.map((g) => g.clone())], watch: params };
    },
    tol: tolOf(spec),
    ...(spec.specials === false ? { specials: false } : {}),
  };
}
