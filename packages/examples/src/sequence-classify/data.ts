import { type DeviceName, type Tensor, defaultGenerator, tensor } from '@webrnn/rnn';

/**
 * The synthetic tasks of the sequence-classify example, over sequences of varying length. Tokens are 1..vocab
 * (0 is padding, LookupTableMaskZero's convention).
 *
 * - sentiment: the first quarter of the words are positive, the next quarter negative, the last word is "not",
 *   the rest are neutral; a positive or negative word straight after "not" counts the other way ("not good" is
 *   negative). A sequence is positive (class 1) when its positive words outweigh its negative ones, negative
 *   (class 0) when they are outweighed (ties are drawn again).
 * - parity: bits (token 1 is a 0, token 2 is a 1); class 1 when the number of 1s is odd.
 */
export type Task = 'sentiment' | 'parity';
export const TASKS: readonly Task[] = ['sentiment', 'parity'];

export interface Examples {
  readonly tokens: number[][];
  readonly labels: number[];
}

/** The number of token kinds a task uses (LookupTableMaskZero's nIndex). */
export const vocabOf = (task: Task, vocab: number): number => (task === 'parity' ? 2 : vocab);

const randint = (lo: number, hi: number) => lo + Math.floor(defaultGenerator.next() * (hi - lo + 1));

export function examples(
  task: Task,
  n: number,
  minLength: number,
  maxLength: number,
  vocab: number,
): Examples {
  const tokens: number[][] = [];
  const labels: number[] = [];
  const q = Math.max(1, Math.floor(vocab / 4));
  while (tokens.length < n) {
    const length = randint(minLength, maxLength);
    if (task === 'parity') {
      const bits = Array.from({ length }, () => randint(0, 1));
      tokens.push(bits.map((b) => b + 1));
      labels.push(bits.reduce((a, b) => a + b, 0) % 2);
      continue;
    }
    const seq = Array.from({ length }, () => randint(1, vocab));
    const polarity = (w: number) => (w <= q ? 1 : w <= 2 * q ? -1 : 0);
    const score = seq.reduce((s, w, i) => s + (i > 0 && seq[i - 1] === vocab ? -1 : 1) * polarity(w), 0);
    if (score === 0) continue; // a tie has no label
    tokens.push(seq);
    labels.push(score > 0 ? 1 : 0);
  }
  return { tokens, labels };
}

/**
 * Sequences of different lengths as one time-major int32 batch [Tmax, N], padded with zeros at the start
 * (left-padding). With masked layers the padding leaves the state at zero, so every sequence ends at the last
 * step: the forward layer's last output has read the whole sequence, and the backward layer, which reads the
 * sequence reversed, meets the padding only after the real tokens.
 */
export function leftPadded(seqs: readonly (readonly number[])[], device: DeviceName): Tensor {
  const n = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const flat = new Int32Array(T * n);
  seqs.forEach((s, b) => s.forEach((v, i) => (flat[(T - s.length + i) * n + b] = v)));
  return tensor(flat, { shape: [T, n], dtype: 'int32', device });
}
