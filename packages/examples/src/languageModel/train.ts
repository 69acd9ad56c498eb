import { type DeviceName, type Tensor, noGrad, tensor, tidy } from '@webrnn/rnn';
import type { Chunk, SequenceLoader } from './corpus.js';
import { type LanguageModel, modelInput } from './model.js';

/** The tensors of one chunk: inputs [T, N], targets as a table of T tensors [N]. */
function chunkTensors(model: LanguageModel, c: Chunk, batch: number, device: DeviceName) {
  const x = tensor(c.x, { shape: [c.steps, batch], dtype: 'int32', device });
  const y = tensor(c.y, { shape: [c.steps, batch], dtype: 'int32', device });
  const targets = model.targetmodule.forward(y) as Tensor[];
  return { input: modelInput(model, x, targets), targets };
}

/**
 * One chunk of training: forward, the criterion summed over the steps (each step's mean over the batch),
 * zeroed gradients, backward. Returns the loss (the caller clips and steps the optimiser).
 */
export function trainChunk(model: LanguageModel, c: Chunk, batch: number, device: DeviceName): Tensor {
  return tidy(() => {
    const { input, targets } = chunkTensors(model, c, batch, device);
    const outputs = model.net.forward(input);
    const loss = model.criterion.forward(outputs, targets);
    model.net.zeroGradParameters();
    model.net.backward(input, model.criterion.backward(outputs, targets));
    return loss;
  });
}

/**
 * The mean of `criterion` per step over the first `steps` steps of every stream, in evaluate() mode and without a
 * tape, carrying the states from chunk to chunk as training does; the states are forgotten before and after.
 * With `nll` it is the negative log-likelihood per word (its exp is the perplexity); an NCE model gives its full
 * normalized log-softmax for it. Without, NCE's loss, with noise sampled as in training (dpnn's validation error).
 */
export async function evaluate(
  model: LanguageModel,
  loader: SequenceLoader,
  seqlen: number,
  steps: number,
  device: DeviceName,
  nll = true,
): Promise<number> {
  model.net.evaluate();
  model.net.forget();
  if (model.nce) model.nce.normalized = nll;
  const criterion = nll ? model.nll : model.criterion;
  let total = 0;
  let counted = 0;
  for (let k = 0; k < loader.chunks(seqlen, steps); k++) {
    const c = loader.chunk(k, seqlen);
    const loss = noGrad(() =>
      tidy(() => {
        const { input, targets } = chunkTensors(model, c, loader.batch, device);
        return criterion.forward(model.net.forward(input), targets);
      }),
    );
    total += await loss.item();
    counted += c.steps;
    loss.dispose();
  }
  if (model.nce) model.nce.normalized = true;
  model.net.forget();
  return total / counted;
}

/** Element-research's early stopping: stop after `patience` epochs without a new minimum. */
export class EarlyStopping {
  best = Number.POSITIVE_INFINITY;
  bestEpoch = 0;
  private trials = 0;

  constructor(readonly patience: number) {}

  /** Record an epoch's validation value: 'best' for a new minimum, 'stop' when patience ran out, else 'wait'. */
  record(epoch: number, value: number): 'best' | 'stop' | 'wait' {
    this.trials++;
    if (value < this.best) {
      this.best = value;
      this.bestEpoch = epoch;
      this.trials = 0;
      return 'best';
    }
    return this.trials >= this.patience ? 'stop' : 'wait';
  }
}

/**
 * The learning rate after epoch `epoch` (1-based), as the examples decay it: from the `schedule` when it has an
 * entry for this epoch, else unchanged with a schedule, else linearly from `startlr` towards `minlr`, reaching it
 * at epoch `saturate`; never below `minlr`.
 */
export function nextLearningRate(
  lr: number,
  epoch: number,
  o: { startlr: number; minlr: number; saturate: number; schedule: ReadonlyMap<number, number> | null },
): number {
  const next = o.schedule ? (o.schedule.get(epoch) ?? lr) : lr + (o.minlr - o.startlr) / o.saturate;
  return Math.max(o.minlr, next);
}

/** A list of sizes as Torch's option gives it, `{200,200}`, or plainly `200,200`. */
export function parseSizes(text: string, option: string): number[] {
  const body = text.trim().replace(/^\{(.*)\}$/, '$1');
  const sizes = body.split(',').map((s) => Number(s.trim()));
  if (body.trim() === '' || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(
      `--${option} must be a list of positive integers such as '{200,200}' or 200,200, got '${text}'`,
    );
  }
  return sizes;
}

/** A learning-rate schedule as Torch's option gives it, `{[5]=0.5,[6]=0.25}`, or plainly `5=0.5,6=0.25`. */
export function parseSchedule(text: string): Map<number, number> | null {
  if (text.trim() === '') return null;
  const body = text.trim().replace(/^\{(.*)\}$/, '$1');
  const schedule = new Map<number, number>();
  for (const entry of body.split(',')) {
    const m = /^\s*\[?\s*(\d+)\s*\]?\s*=\s*([^\s]+)\s*$/.exec(entry);
    const lr = m ? Number(m[2]) : Number.NaN;
    if (!m || !(lr > 0)) {
      throw new Error(
        `--schedule must read like '{[5]=0.5,[6]=0.25}' (epoch = learning rate > 0), got '${text}'`,
      );
    }
    schedule.set(Number(m[1]), lr);
  }
  return schedule;
}

/** The parameters' values on the host (the best epoch's, to evaluate the test set with them at the end). */
export async function snapshot(params: readonly Tensor[]): Promise<Float32Array[]> {
  return Promise.all(params.map(async (p) => Float32Array.from(await p.data())));
}

export function restore(params: readonly Tensor[], values: readonly Float32Array[]): void {
  noGrad(() =>
    tidy(() => {
      params.forEach((p, i) => {
        p.copy_(tensor(values[i]!, { shape: p.shape, dtype: p.dtype, device: p.device }));
      });
    }),
  );
}
