import type { Tensor } from './deps.js';
import type { Module } from './Module.js';

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

export function hasStateBoundaries(m: Module): m is Module & StateBoundaries {
  return typeof (m as Partial<StateBoundaries>).stateStarts === 'function';
}

/** `root` and the modules below it that have state boundaries, each once. */
export function stateHolders(root: Module): (Module & StateBoundaries)[] {
  const out: (Module & StateBoundaries)[] = [];
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
