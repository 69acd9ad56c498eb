import {
  type DeviceName,
  Generator,
  type Tensor,
  narrow,
  nn,
  noGrad,
  optim,
  tensor,
  tidy,
} from '@webrnn/rnn';
import type { Chunk, Streams } from './corpus.js';

/** What a checkpoint needs to rebuild the model (stored in its metadata). */
export interface ModelConfig {
  readonly vocab: number;
  readonly embed: number;
  readonly hidden: number;
  readonly layers: number;
  readonly cell: 'lstm' | 'gru';
}

export type SeqLayer = nn.SeqLSTM | nn.SeqGRU;

export interface CharModel {
  /** LookupTable -> SeqLSTM/SeqGRU x layers -> View(-1, H) -> Linear(H, V): ids [T, N] to scores [T N, V]. */
  readonly net: nn.Sequential;
  /** The recurrent layers, which carry their states from one chunk to the next. */
  readonly layers: readonly SeqLayer[];
}

export function buildModel(c: ModelConfig, device: DeviceName): CharModel {
  const net = new nn.Sequential().add(new nn.LookupTable(c.vocab, c.embed));
  const layers: SeqLayer[] = [];
  for (let l = 0; l < c.layers; l++) {
    const inputSize = l === 0 ? c.embed : c.hidden;
    const layer = c.cell === 'gru' ? new nn.SeqGRU(inputSize, c.hidden) : new nn.SeqLSTM(inputSize, c.hidden);
    // Truncated BPTT over consecutive chunks: each forward starts from the states the last one ended with
    // (detached, so backward stops at the chunk's start).
    layer.remember('both');
    layers.push(layer);
    net.add(layer);
  }
  // The output layer on every step at once: [T, N, H] viewed as [T N, H].
  net.add(new nn.View(-1, c.hidden)).add(new nn.Linear(c.hidden, c.vocab));
  return { net: net.to(device), layers };
}

/** Start every stream from zero states (a new pass over the text, or a new sample). */
export function forget(model: CharModel): void {
  for (const layer of model.layers) layer.forget();
}

const ids = (data: Int32Array, shape: number[], device: DeviceName) =>
  tensor(data, { shape, dtype: 'int32', device });

/** One chunk of training: forward, the mean cross-entropy of every step, backward (gradients accumulate). */
export function trainStep(
  model: CharModel,
  criterion: nn.CrossEntropyCriterion,
  chunk: Chunk,
  streams: number,
  device: DeviceName,
): Tensor {
  const x = ids(chunk.x, [chunk.steps, streams], device);
  const y = ids(chunk.y, [chunk.steps * streams], device);
  const scores = model.net.forward(x);
  const loss = criterion.forward(scores, y);
  model.net.backward(x, criterion.backward(scores, y));
  return loss;
}

/** Clip the global gradient norm, then one optimiser step; returns the norm before clipping. */
export async function update(
  params: readonly Tensor[],
  optimizer: optim.Adam | optim.RMSprop,
  maxNorm: number,
): Promise<number> {
  const norm = await optim.clipGradNormAsync(params, maxNorm);
  optimizer.step();
  return norm;
}

/**
 * The mean cross-entropy (nats per character) over every chunk of `streams`, without a tape, carrying the
 * states from chunk to chunk as training does. Leaves the model in evaluation mode with forgotten states.
 */
export async function evaluateLoss(
  model: CharModel,
  criterion: nn.CrossEntropyCriterion,
  streams: Streams,
  device: DeviceName,
): Promise<number> {
  model.net.evaluate();
  forget(model);
  let total = 0;
  for (let k = 0; k < streams.chunks; k++) {
    const chunk = streams.chunk(k);
    const loss = noGrad(() =>
      tidy(() => {
        const x = ids(chunk.x, [chunk.steps, streams.streams], device);
        const y = ids(chunk.y, [chunk.steps * streams.streams], device);
        return criterion.forward(model.net.forward(x), y);
      }),
    );
    total += (await loss.item()) * chunk.steps * streams.streams;
    loss.dispose();
  }
  forget(model);
  return total / streams.predicted;
}

export interface SampleOptions {
  /** Ids read before sampling (at least one). */
  readonly prime: Int32Array;
  /** Characters to sample after the prime. */
  readonly length: number;
  /** Scores are divided by it before the softmax: below 1 sharper, above 1 flatter; 0 takes the most likely. */
  readonly temperature: number;
  /** Seed of the generator that draws the characters (independent of the training's). */
  readonly seed: number;
}

/**
 * Sample ids one at a time, each fed back as the next input: softmax(scores / temperature) drawn with a
 * Generator seeded with `seed`, so that the same weights and seed give the same text. The distribution is
 * computed on the host in float64 from the scores of each step.
 */
export async function sample(model: CharModel, device: DeviceName, o: SampleOptions): Promise<Int32Array> {
  if (o.prime.length === 0) throw new Error('sample: the prime must hold at least one character');
  const generator = new Generator(o.seed);
  model.net.evaluate();
  forget(model);
  const out = new Int32Array(o.length);
  // The prime in one forward; its last step's scores give the first sampled character.
  let input = ids(o.prime, [o.prime.length, 1], device);
  for (let i = 0; i < o.length; i++) {
    const x = input;
    const last = noGrad(() =>
      tidy(() => {
        const scores = model.net.forward(x) as Tensor;
        return narrow(scores, 0, scores.shape[0]! - 1, 1);
      }),
    );
    x.dispose();
    const scores = await last.data();
    last.dispose();
    out[i] = draw(scores, o.temperature, generator);
    input = ids(out.subarray(i, i + 1), [1, 1], device);
  }
  input.dispose();
  forget(model);
  return out;
}

/** An index drawn from softmax(scores / temperature); the arg max for temperature 0. */
export function draw(scores: ArrayLike<number>, temperature: number, generator: Generator): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  if (temperature === 0) return best;
  const max = scores[best]!;
  const p = Array.from(scores, (s) => Math.exp((s - max) / temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let u = generator.next() * total;
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return best; // rounding left u at (about) zero
}
