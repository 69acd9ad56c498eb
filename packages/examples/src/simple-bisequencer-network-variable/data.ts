import { defaultGenerator } from '@webrnn/rnn';
import { CountingSequence } from '../shared/countingSequence.js';

/**
 * The batches of Element-research's simple-bisequencer-network-variable.lua: the counting sequence read by `batch`
 * cursors, each sample with its own length maxStep (1..rho, drawn once), right-padded with 0 up to rho steps (its
 * targets too); and the same samples reversed (their real steps only, right-padded too) for the backward RNN.
 */
export interface VariableBatch {
  /** rho steps of [batch] tokens (1..10, 0 after the sample's length). */
  readonly inputs: number[][];
  /** Reversed real steps, right-padded: inputsRev[t][j] = inputs[maxStep[j] - 1 - t][j] while t < maxStep[j]. */
  readonly inputsRev: number[][];
  /** rho steps of [batch] next tokens (0 on padding). */
  readonly targets: number[][];
}

export class VariableCounting {
  private readonly data: CountingSequence;
  /** Each sample's length (Lua: math.random(rho), drawn once for the whole run). */
  readonly maxStep: number[];

  constructor(
    readonly batch: number,
    readonly rho: number,
  ) {
    this.data = new CountingSequence(batch);
    this.maxStep = Array.from({ length: batch }, () => 1 + Math.floor(defaultGenerator.next() * rho));
  }

  /** Whether step t of sample j is padding. */
  padded(t: number, j: number): boolean {
    return t >= this.maxStep[j]!;
  }

  next(): VariableBatch {
    const { inputs, targets } = this.data.next(this.rho);
    // padding
    for (let t = 0; t < this.rho; t++) {
      for (let j = 0; j < this.batch; j++) {
        if (this.padded(t, j)) inputs[t]![j] = targets[t]![j] = 0;
      }
    }
    // reverse
    const inputsRev = inputs.map((row, t) =>
      row.map((_, j) => (this.padded(t, j) ? 0 : inputs[this.maxStep[j]! - 1 - t]![j]!)),
    );
    return { inputs, inputsRev, targets };
  }
}
