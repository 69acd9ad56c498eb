import { type Tensor, type nn, tidy } from '@webrnn/rnn';
import type { RunCheckpoints } from './checkpoint.js';
import { signalsTurn, stopOnSignal } from './interrupt.js';
import { Progress } from './progress.js';

/**
 * The training loop of Element-research's small example programs: `iterations` times one step (forward,
 * criterion, backward, update) in its own tidy scope, the loss read back and shown as a progress line. Ctrl-C (or
 * SIGTERM) stops after the iteration in progress, so the program still writes its plots and summary. A step may
 * also return more scalars after the loss (e.g. a count of right answers): they are read back into `extras`.
 * With `checkpoint`, the loop starts after `checkpoint.first` (a resumed run), saves every --save-every
 * iterations, at the end with --save, and always on a stop (to --save, else `<out>/checkpoint.safetensors`).
 */
export interface TrainRun {
  /** The loss of each iteration that ran (fewer than asked for when stopped). */
  readonly losses: number[];
  /** The scalars a step returned after its loss, one array per iteration. */
  readonly extras: number[][];
  readonly seconds: number;
  /** True when a signal stopped the loop early. */
  readonly stopped: boolean;
  /** Iterations done before this run (resumed from a checkpoint); losses[i] is iteration first + i + 1. */
  readonly first: number;
  /** The checkpoint written at the end or on a stop, if any. */
  readonly saved: string | null;
}

export interface LoopCheckpoint {
  readonly to: RunCheckpoints;
  readonly net: nn.Module;
  readonly optimizer?: Parameters<RunCheckpoints['save']>[2];
  /** Iterations already done (what `RunCheckpoints.resume` returned). */
  readonly first: number;
}

export async function trainLoop(
  what: string,
  iterations: number,
  step: (iteration: number) => Tensor | readonly [Tensor, ...Tensor[]],
  /** Called after each iteration (outside its tidy scope), e.g. for a periodic evaluation. */
  after?: (iteration: number) => Promise<void>,
  checkpoint?: LoopCheckpoint,
): Promise<TrainRun> {
  const losses: number[] = [];
  const extras: number[][] = [];
  const first = checkpoint?.first ?? 0;
  const progress = new Progress(iterations, { first });
  const stop = stopOnSignal(what);
  const save = (iteration: number) => checkpoint!.to.save(iteration, checkpoint!.net, checkpoint!.optimizer);
  let saved: string | null = null;
  try {
    for (let iteration = first + 1; iteration <= iterations && !stop.requested; iteration++) {
      // Everything the step makes is freed but the loss; the weights and remembered states live outside.
      const out = tidy(() => step(iteration));
      const [loss, ...more] = Array.isArray(out) ? out : [out as Tensor];
      losses.push(await loss!.item());
      extras.push(await Promise.all(more.map((t) => t.item())));
      for (const t of [loss!, ...more]) t.dispose();
      progress.update(iteration, losses.at(-1)!);
      await after?.(iteration);
      await signalsTurn();
      if (checkpoint?.to.due(iteration) && iteration < iterations) await save(iteration);
    }
    const reached = first + losses.length;
    if (checkpoint && stop.requested) {
      // A second signal during this write still quits at once (stopOnSignal); the write is atomic.
      saved = await save(reached);
      console.log(
        `stopped after iteration ${reached} of ${iterations}: checkpoint written to ${saved} ` +
          `(continue with --resume ${saved})`,
      );
    } else if (checkpoint?.to.saving && losses.length > 0) {
      saved = await save(reached);
    }
  } finally {
    stop.dispose();
  }
  return { losses, extras, seconds: progress.seconds, stopped: stop.requested, first, saved };
}
