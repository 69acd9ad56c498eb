import { type DeviceName, type Tensor, defaultGenerator, tensor } from '@webrnn/rnn';

/**
 * The synthetic tasks of the seq2seq example: a sequence of `length` digits in, the same digits reversed (or
 * sorted) out. Tokens 0..digits-1 are the digits; token `digits` is GO, the decoder's first input.
 */
export type Task = 'reverse' | 'sort';
export const TASKS: readonly Task[] = ['reverse', 'sort'];

/** A batch of N sequences, host side: source[b] and target[b] are arrays of `length` digits. */
export interface Examples {
  readonly source: number[][];
  readonly target: number[][];
}

export function examples(task: Task, n: number, length: number, digits: number): Examples {
  const source = Array.from({ length: n }, () =>
    Array.from({ length }, () => Math.floor(defaultGenerator.next() * digits)),
  );
  const target = source.map((s) => (task === 'reverse' ? [...s].reverse() : [...s].sort((a, b) => a - b)));
  return { source, target };
}

/** Rows of per-sequence tokens as a time-major int32 tensor [T, N] (the layout of SeqLSTM and LookupTable). */
export function timeMajor(rows: readonly (readonly number[])[], device: DeviceName): Tensor {
  const n = rows.length;
  const t = rows[0]!.length;
  const flat = new Int32Array(t * n);
  rows.forEach((row, b) => row.forEach((v, i) => (flat[i * n + b] = v)));
  return tensor(flat, { shape: [t, n], dtype: 'int32', device });
}

/**
 * Teacher forcing: the decoder reads GO then the target shifted right by one, [GO, y0, ..., y(T-2)], and is
 * scored on predicting y0, ..., y(T-1).
 */
export function decoderInputs(target: readonly (readonly number[])[], go: number): number[][] {
  return target.map((y) => [go, ...y.slice(0, -1)]);
}

/** Exact-match (whole sequence right) and token accuracy of predictions against targets. */
export function accuracy(
  predicted: readonly (readonly number[])[],
  target: readonly (readonly number[])[],
): { exact: number; token: number } {
  let exact = 0;
  let tokens = 0;
  let total = 0;
  predicted.forEach((p, b) => {
    const y = target[b]!;
    let right = 0;
    y.forEach((v, i) => (right += p[i] === v ? 1 : 0));
    tokens += right;
    total += y.length;
    if (right === y.length) exact++;
  });
  return { exact: exact / predicted.length, token: tokens / total };
}
