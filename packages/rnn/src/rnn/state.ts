import { type Tensor, WebrnnError } from '../module/deps.js';
import type { Module } from '../module/Module.js';

/**
 * The recurrent state, as every module sees it: when a state carries over from one sequence to the next (remember
 * modes), and what a recurrent module tells a backward that passes through it from any container above (state
 * boundaries). AbstractRecurrent (step-wise) and SeqRecurrent (whole sequences) implement it; Module's forward and
 * backward consult it, so that a container's single backward stops at the initial states and takes the coupling
 * gradients. Masks of padded steps live in nn/masking.ts.
 */

/** When a recurrent module keeps its state from one sequence to the next (Element-research's remember). */
export type RememberMode = 'neither' | 'both' | 'train' | 'eval';

const MODES: readonly RememberMode[] = ['neither', 'both', 'train', 'eval'];

/** Refuse anything but a remember mode, naming `op`. */
export function checkRememberMode(op: string, mode: unknown): asserts mode is RememberMode {
  if (!MODES.includes(mode as RememberMode)) {
    throw new WebrnnError(op, `mode must be 'neither', 'both', 'train' or 'eval', got '${String(mode)}'`);
  }
}

/** Whether a state carries over under `mode` in training (`train`) or evaluation. */
export function remembers(mode: RememberMode, train: boolean): boolean {
  return mode === 'both' || (mode === 'train' && train) || (mode === 'eval' && !train);
}

/**
 * What a recurrent module tells a backward that passes through it (Module.runVjp, from any container above):
 * where the backward must stop — the states its sequence started from, whose gradients it receives (Torch's
 * gradPrevState, userGradPrevOutput) — and the gradients that arrive at its final states from outside (a
 * decoder's, into an encoder: gradPrevOutput, userNextGradCell). Without them, a backward through a container
 * would run on into whatever graph produced the initial states, and the coupling hooks would stay empty.
 */
export interface StateBoundaries {
  /** The initial states of the last sequence, as tape tensors where the backward stops. */
  stateStarts(): readonly Tensor[];
  /** Extra [final state, its gradient] pairs for the next backward (consumed by it). */
  stateSeeds(): readonly (readonly [Tensor, Tensor])[];
  /** The gradients with respect to stateStarts(), in order, once the backward is done. */
  receiveStateGrads(grads: readonly Tensor[]): void;
  /** Step-wise modules: forward steps taken since construction (never reset), to tell which forward made a step. */
  stepCount?(): number;
  /** Step-wise modules: how many steps are kept for backward (the graph a backward through them covers). */
  keptSteps?(): number;
}

export type StateHolder = Module & StateBoundaries;

export function hasStateBoundaries(m: Module): m is StateHolder {
  return typeof (m as Partial<StateBoundaries>).stateStarts === 'function';
}

/**
 * `root` and the modules below it that have state boundaries, each once. A walk of the tree at each container
 * forward and backward (not a registry): `modules` is public, as in Torch, so the tree may change between calls.
 */
export function stateHolders(root: Module): StateHolder[] {
  const out: StateHolder[] = [];
  const seen = new Set<Module>();
  const stack = [root];
  while (stack.length > 0) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (hasStateBoundaries(m)) out.push(m);
    stack.push(...m.children());
  }
  return out;
}

/** The step count of each step-wise module inside `root` when a forward of `root` begins. */
export type StepMarks = ReadonlyMap<StateHolder, number | undefined>;

export function markSteps(root: Module): StepMarks {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArrayDeclaration: a module without children holds no steps to refuse (none counts steps: refuseStepwise skips it), the test only saves the walk; `false` and `<= 0` fail stateBoundaries.test.ts (checked by hand).
  const holders = root.children().length > 0 ? stateHolders(root) : [];
  return new Map(holders.map((h) => [h, h.stepCount?.()] as const));
}

/**
 * A backward through `owner` covers its last forward only. When a step-wise module inside (an AbstractRecurrent)
 * keeps steps from earlier forwards of `owner`, the caller is stepping through a sequence with a plain container
 * (Torch's step-wise backward, one call per step in reverse): from the owner's single kept output, the older
 * steps' gradients would be silently wrong, so it is refused.
 */
export function refuseStepwise(op: string, holders: readonly StateHolder[], marks: StepMarks): void {
  for (const h of holders) {
    const mark = marks.get(h);
    const count = h.stepCount?.();
    const kept = h.keptSteps?.();
    // Stryker disable next-line ConditionalExpression,LogicalOperator: an undefined count makes `kept > count - mark` false (NaN) anyway, the test says it; `if (true)` fails stateBoundaries.test.ts (checked by hand).
    if (mark === undefined || count === undefined || kept === undefined) continue;
    if (kept > count - mark) {
      throw new WebrnnError(
        op,
        `${h.errorName()} inside keeps ${kept} steps but only ${count - mark} came from this module's last forward: ` +
          'a step-wise backward (one call per time step) through a plain container is not supported; ' +
          'wrap the container in nn.Recursor (new nn.Recursor(net)), or run whole sequences with nn.Sequencer',
      );
    }
  }
}
