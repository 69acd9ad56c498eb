import {
  type DeviceName,
  type Tensor,
  argmax,
  defaultGenerator,
  nn,
  noGrad,
  stack,
  tensor,
  tidy,
} from '@webrnn/rnn';
import type { RunCheckpoints } from './checkpoint.js';
import { type TrainRun, trainLoop } from './trainLoop.js';

/**
 * The toy data set of Element-research's simple-sequencer-network.lua and the examples built on it: one long
 * sequence 1, 2, ..., 10, 1, 2, ..., 10, ... (100 repetitions), read by `batch` cursors at random offsets; each
 * call takes the next `rho` steps at every cursor, the targets being the element that follows each input (the
 * task: predict the next item). Tokens are 1..period as in Torch; the cursors wrap around at the end.
 */
export interface CountingBatch {
  /** rho steps of [batch] tokens (1..period). */
  readonly inputs: number[][];
  /** rho steps of [batch] tokens: the element after each input. */
  readonly targets: number[][];
}

export class CountingSequence {
  readonly length: number;
  private readonly offsets: number[];

  constructor(
    readonly batch: number,
    readonly period = 10,
    repetitions = 100,
  ) {
    this.length = period * repetitions;
    // math.ceil(math.random() * size) in Lua: 1..size; 0-based here.
    this.offsets = Array.from({ length: batch }, () => Math.floor(defaultGenerator.next() * this.length));
  }

  /** The element at (0-based) position i of the sequence. */
  at(i: number): number {
    return (i % this.period) + 1;
  }

  next(rho: number): CountingBatch {
    const inputs: number[][] = [];
    const targets: number[][] = [];
    for (let step = 0; step < rho; step++) {
      inputs.push(this.offsets.map((o) => this.at(o)));
      for (let b = 0; b < this.batch; b++) this.offsets[b] = (this.offsets[b]! + 1) % this.length;
      targets.push(this.offsets.map((o) => this.at(o)));
    }
    return { inputs, targets };
  }
}

/** One step of tokens as an int32 tensor [batch], shifted by `shift` (-1 turns Torch's 1-based classes 0-based). */
export const tokens = (row: readonly number[], device: DeviceName, shift = 0): Tensor =>
  tensor(
    Int32Array.from(row, (v) => v + shift),
    { dtype: 'int32', device },
  );

/** Fraction of the (unmasked) positions where the predicted class equals the target class. */
export function accuracyOf(
  predicted: readonly ArrayLike<number>[],
  targets: readonly (readonly number[])[],
  counts: (step: number, b: number) => boolean = () => true,
): number {
  let right = 0;
  let total = 0;
  targets.forEach((row, t) =>
    row.forEach((y, b) => {
      if (!counts(t, b)) return;
      total++;
      if (predicted[t]![b] === y) right++;
    }),
  );
  return total === 0 ? 0 : right / total;
}

export interface CountingRun extends TrainRun {
  /** Accuracy of the next-item predictions on a fresh batch after training (evaluation mode). */
  readonly accuracy: number;
}

/**
 * The training loop the scripts built on simple-sequencer-network.lua share: a Sequencer language model over the
 * counting sequence (a table of rho steps of [batch] word indices in, rho steps of log-probabilities out), scored
 * by SequencerCriterion(ClassNLLCriterion) and trained by plain SGD; then its accuracy on a fresh batch. Words are
 * 0-based indices here (Torch's token minus one).
 */
export async function trainOnCounting(
  rnn: nn.Module,
  s: { iterations: number; rho: number; batch: number; lr: number; device: DeviceName },
  /** --save/--save-every/--resume of the program (shared/checkpoint.ts), when it takes them. */
  checkpoints?: RunCheckpoints,
): Promise<CountingRun> {
  // Resumed before the data: resuming reseeds the generator the batches' offsets come from.
  const first = checkpoints?.resume(rnn, undefined, s.iterations) ?? 0;
  const data = new CountingSequence(s.batch);
  const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
  const steps = (rows: number[][]) => rows.map((r) => tokens(r, s.device, -1));
  rnn.training();
  const loopCheckpoint = checkpoints ? { to: checkpoints, net: rnn, first } : undefined;
  const run = await trainLoop(
    'training',
    s.iterations,
    () => {
      // 1. create a sequence of rho time-steps
      const batch = data.next(s.rho);
      const inputs = steps(batch.inputs);
      const targets = steps(batch.targets);
      // 2. forward the sequence through the rnn
      rnn.zeroGradParameters();
      const outputs = rnn.forward(inputs);
      const err = criterion.forward(outputs, targets);
      // 3. backward the sequence through the rnn (backpropagation through time)
      rnn.backward(inputs, criterion.backward(outputs, targets));
      // 4. update
      rnn.updateParameters(s.lr);
      return err;
    },
    undefined,
    loopCheckpoint,
  );
  rnn.evaluate();
  const batch = data.next(s.rho);
  const out = noGrad(() =>
    tidy(() => stack((rnn.forward(steps(batch.inputs)) as Tensor[]).map((o) => argmax(o, -1)))),
  );
  const flat = await out.data(); // [rho, batch]
  out.dispose();
  const predicted = batch.targets.map((_, t) => flat.slice(t * s.batch, (t + 1) * s.batch));
  const targets = batch.targets.map((r) => r.map((v) => v - 1));
  return { ...run, accuracy: accuracyOf(predicted, targets) };
}
