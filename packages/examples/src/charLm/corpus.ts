import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The text of the character-level language model: its vocabulary (every character that occurs, sorted), the
 * text as 0-based int32 indices, a held-out tail for validation, and the batches of truncated BPTT.
 */

/** The shipped text: Ambrose Bierce's The Devil's Dictionary (1911), entries A to Q (see data/README.md). */
export const DEFAULT_TEXT = fileURLToPath(new URL('../../data/devils-dictionary-a-q.txt', import.meta.url));

export interface Vocabulary {
  /** The characters, indexed by their id. */
  readonly chars: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

/** A vocabulary from a list of characters (from the text, or from a checkpoint's metadata). */
export function vocabulary(chars: Iterable<string>): Vocabulary {
  const list = [...new Set(chars)].sort();
  return { chars: list, ids: new Map(list.map((c, i) => [c, i])) };
}

export function readText(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--data: cannot read ${file}: ${(e as Error).message}`);
  }
  // The same text whatever the line endings of the checkout.
  return text.replace(/\r\n?/g, '\n');
}

/** The ids of `text`; a character outside the vocabulary is an error naming it and `what` the text is. */
export function encode(text: string, vocab: Vocabulary, what: string): Int32Array {
  const chars = [...text];
  return Int32Array.from(chars, (c, i) => {
    const id = vocab.ids.get(c);
    if (id === undefined) {
      throw new Error(
        `${what}: character ${JSON.stringify(c)} at position ${i} is not in the vocabulary of ${vocab.chars.length} characters`,
      );
    }
    return id;
  });
}

export const decode = (ids: ArrayLike<number>, vocab: Vocabulary): string =>
  Array.from(ids, (id) => vocab.chars[id]!).join('');

/** The text split into a training head and a held-out validation tail of about `fraction` of it. */
export function split(ids: Int32Array, fraction: number): { train: Int32Array; valid: Int32Array } {
  const nValid = Math.round(ids.length * fraction);
  return { train: ids.subarray(0, ids.length - nValid), valid: ids.subarray(ids.length - nValid) };
}

/** One chunk of truncated BPTT: inputs and next-character targets, both [steps, streams] in time-major order. */
export interface Chunk {
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly steps: number;
}

/**
 * The text cut into `streams` equal consecutive parts read in parallel, as char-rnn does: chunk k holds steps
 * [k T, (k + 1) T) of every part, so that the states a layer remembers at the end of chunk k are those that
 * chunk k + 1 continues from. The last chunk may be shorter; what does not fill the parts evenly is dropped.
 */
export class Streams {
  /** Characters per stream that have a next character to predict. */
  readonly length: number;
  readonly chunks: number;

  constructor(
    private readonly ids: Int32Array,
    readonly streams: number,
    readonly steps: number,
    what: string,
  ) {
    this.length = Math.floor((ids.length - 1) / streams);
    if (this.length < 1) {
      throw new Error(
        `${what}: ${ids.length} characters are too few for ${streams} parallel streams (lower --batch, or use a longer text)`,
      );
    }
    this.chunks = Math.ceil(this.length / steps);
  }

  /** Characters predicted in one pass over all the chunks. */
  get predicted(): number {
    return this.length * this.streams;
  }

  chunk(k: number): Chunk {
    const n = this.streams;
    const start = k * this.steps;
    const steps = Math.min(this.steps, this.length - start);
    const x = new Int32Array(steps * n);
    const y = new Int32Array(steps * n);
    for (let b = 0; b < n; b++) {
      const base = b * this.length + start;
      for (let t = 0; t < steps; t++) {
        x[t * n + b] = this.ids[base + t]!;
        y[t * n + b] = this.ids[base + t + 1]!;
      }
    }
    return { x, y, steps };
  }
}

/**
 * The unigram baseline: the perplexity on `valid` of predicting every character from its frequency in `train`
 * (add-one smoothed, so that a character unseen in training costs a finite amount). A model that learns
 * anything beyond character frequencies goes below it.
 */
export function unigramPerplexity(train: Int32Array, valid: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (const id of train) counts[id]!++;
  const total = train.length + vocabSize;
  let nll = 0;
  for (const id of valid) nll -= Math.log(counts[id]! / total);
  return Math.exp(nll / valid.length);
}
