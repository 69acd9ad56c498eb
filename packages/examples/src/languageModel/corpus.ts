/**
 * The word-level corpus of recurrent-language-model, prepared the way the Penn Treebank files that Element-
 * research's example reads (through dataload's loadPTB) were: lower-cased words, numbers as `N`, punctuation as
 * words of its own, `<eos>` at the end of each paragraph, words rarer than a cut-off as `<unk>`; then the token
 * stream split into training, validation and test parts, and each part cut into parallel streams for truncated
 * BPTT (dataload's SequenceLoader).
 */

export const UNK = '<unk>';
export const EOS = '<eos>';

/** Words, numbers (as N), punctuation marks, and `<eos>` at every blank line. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const paragraph of text.toLowerCase().split(/\n\s*\n/)) {
    const words = paragraph.match(/[a-z]+(?:'[a-z]+)*|\d+(?:[.,]\d+)*|[^\s\w]/g);
    if (!words) continue;
    for (const w of words) tokens.push(/^\d/.test(w) ? 'N' : w);
    tokens.push(EOS);
  }
  return tokens;
}

export interface WordVocabulary {
  /** The words by id: `<unk>` first, then by falling frequency in the training part (ties alphabetically). */
  readonly words: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

/** The words seen at least `minCount` times in `training`; every other word will read as `<unk>`. */
export function wordVocabulary(training: readonly string[], minCount: number): WordVocabulary {
  const counts = new Map<string, number>();
  for (const w of training) counts.set(w, (counts.get(w) ?? 0) + 1);
  const kept = [...counts]
    .filter(([w, c]) => c >= minCount && w !== UNK)
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : 1))
    .map(([w]) => w);
  const words = [UNK, ...kept];
  return { words, ids: new Map(words.map((w, i) => [w, i])) };
}

export const encodeWords = (tokens: readonly string[], vocab: WordVocabulary): Int32Array =>
  Int32Array.from(tokens, (w) => vocab.ids.get(w) ?? 0);

/** Word frequencies of `ids` (dataload's `wordfreq`): NCE's noise distribution. */
export function wordFrequencies(ids: Int32Array, vocabSize: number): Float64Array {
  const f = new Float64Array(vocabSize);
  for (const id of ids) f[id]!++;
  return f;
}

/** The token stream in three consecutive parts: training, then validation, then test (fractions of the whole). */
export function splitThree(
  tokens: readonly string[],
  validFraction: number,
  testFraction: number,
): { train: string[]; valid: string[]; test: string[] } {
  const nValid = Math.round(tokens.length * validFraction);
  const nTest = Math.round(tokens.length * testFraction);
  const nTrain = tokens.length - nValid - nTest;
  return {
    train: tokens.slice(0, nTrain),
    valid: tokens.slice(nTrain, nTrain + nValid),
    test: tokens.slice(nTrain + nValid),
  };
}

/** One chunk of truncated BPTT: inputs and next-word targets, both [steps, batch] in time-major order. */
export interface Chunk {
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly steps: number;
}

/**
 * dataload's SequenceLoader: the ids cut into `batch` equal consecutive streams read in parallel; `chunk(k)`
 * holds steps [k seqlen, (k + 1) seqlen) of every stream (the last chunk may be shorter), so that the states a
 * model remembers at the end of one chunk are those the next continues from.
 */
export class SequenceLoader {
  /** Steps per stream that have a next word to predict (dataload's `size()`). */
  readonly size: number;

  constructor(
    private readonly ids: Int32Array,
    readonly batch: number,
    what: string,
  ) {
    this.size = Math.floor((ids.length - 1) / batch);
    if (this.size < 1) {
      throw new Error(
        `${what}: ${ids.length} words are too few for --batchsize ${batch} parallel streams (lower it, or use a longer text)`,
      );
    }
  }

  /** The number of chunks of `seqlen` steps covering the first `steps` steps of every stream. */
  chunks(seqlen: number, steps = this.size): number {
    return Math.ceil(Math.min(steps, this.size) / seqlen);
  }

  chunk(k: number, seqlen: number): Chunk {
    const n = this.batch;
    const start = k * seqlen;
    const steps = Math.min(seqlen, this.size - start);
    const x = new Int32Array(steps * n);
    const y = new Int32Array(steps * n);
    for (let b = 0; b < n; b++) {
      const base = b * this.size + start;
      for (let t = 0; t < steps; t++) {
        x[t * n + b] = this.ids[base + t]!;
        y[t * n + b] = this.ids[base + t + 1]!;
      }
    }
    return { x, y, steps };
  }
}

/**
 * The unigram baseline: the perplexity on `ids` of predicting every word from its frequency in training
 * (add-one smoothed). A language model that learns anything beyond word frequencies goes below it.
 */
export function unigramPerplexity(freq: Float64Array, ids: Int32Array): number {
  const total = freq.reduce((a, b) => a + b, 0) + freq.length;
  let nll = 0;
  for (const id of ids) nll -= Math.log((freq[id]! + 1) / total);
  return Math.exp(nll / ids.length);
}
