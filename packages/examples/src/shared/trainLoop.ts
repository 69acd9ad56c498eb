import { type Tensor, tidy } from '@webrnn/rnn';
import { stopOnSignal } from './interrupt.js';
import { Progress } from './progress.js';

/**
 * The training loop of Element-research's small example programs: `iterations` times one step (forward,
 * criterion, backward, update) in its own tidy scope, the loss read back and shown as a progress line. Ctrl-C (or
 * SIGTERM) stops after the iteration in progress, so the program still writes its plots and summary. A step may
 * also return more scalars after the loss (e.g. a count of right answers): they are read back into `extras`.
 */
export interface TrainRun {
  /** The loss of each iteration that ran (fewer than asked for when stopped). */
  readonly losses: number[];
  /** The scalars a step returned after its loss, one array per iteration. */
  readonly extras: number[][];
  readonly seconds: number;
  /** True when a signal stopped the loop early. */
  readonly stopped: boolean;
}

export async function trainLoop(
  what: string,
  iterations: number,
  step: (iteration: number) => Tensor | readonly [Tensor, ...Tensor[]],
  /** Called after each iteration (outside its tidy scope), e.g. for a periodic evaluation. */
  after?: (iteration: number) => Promise<void>,
): Promise<TrainRun> {
  const losses: number[] = [];
  const extras: number[][] = [];
  const progress = new Progress(iterations);
  const stop = stopOnSignal(what);
  try {
    for (let iteration = 1; iteration <= iterations && !stop.requested; iteration++) {
      // Everything the step makes is freed but the loss; the weights and remembered states live outside.
      const out = tidy(() => step(iteration));
      const [loss, ...more] = Array.isArray(out) ? out : [out as Tensor];
      losses.push(await loss!.item());
      extras.push(await Promise.all(more.map((t) => t.item())));
      for (const t of [loss!, ...more]) t.dispose();
      progress.update(iteration, losses.at(-1)!);
      await after?.(iteration);
    }
  } finally {
    stop.dispose();
  }
  return { losses, extras, seconds: progress.seconds, stopped: stop.requested };
}
