import { type Tensor, tidy } from '@webrnn/rnn';
import { stopOnSignal } from './interrupt.js';
import { Progress } from './progress.js';

/**
 * The training loop of Element-research's small example programs: `iterations` times one step (forward,
 * criterion, backward, update) in its own tidy scope, the loss read back and shown as a progress line. Ctrl-C (or
 * SIGTERM) stops after the iteration in progress, so the program still writes its plots and summary.
 */
export interface TrainRun {
  /** The loss of each iteration that ran (fewer than asked for when stopped). */
  readonly losses: number[];
  readonly seconds: number;
  /** True when a signal stopped the loop early. */
  readonly stopped: boolean;
}

export async function trainLoop(
  what: string,
  iterations: number,
  step: (iteration: number) => Tensor,
): Promise<TrainRun> {
  const losses: number[] = [];
  const progress = new Progress(iterations);
  const stop = stopOnSignal(what);
  try {
    for (let iteration = 1; iteration <= iterations && !stop.requested; iteration++) {
      // Everything the step makes is freed but the loss; the weights and remembered states live outside.
      const loss = tidy(() => step(iteration));
      losses.push(await loss.item());
      loss.dispose();
      progress.update(iteration, losses.at(-1)!);
    }
  } finally {
    stop.dispose();
  }
  return { losses, seconds: progress.seconds, stopped: stop.requested };
}
