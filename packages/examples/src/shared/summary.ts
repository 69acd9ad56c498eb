import path from 'node:path';

/**
 * The final text block of a program: aligned `label  value` rows, then the output folder and the files written
 * there. Returns the text (also printed) so that tests can look at it.
 */
export interface SummaryInput {
  readonly title: string;
  readonly rows: readonly (readonly [label: string, value: string])[];
  readonly outDir: string;
  readonly files: readonly string[];
}

export function summary({ title, rows, outDir, files }: SummaryInput): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const names = files.map((f) => path.relative(outDir, f)).join('  ');
  const text = [
    `\n== ${title} ==`,
    ...rows.map(([label, value]) => `${label.padEnd(width)}${value}`),
    `${'files'.padEnd(width)}${path.resolve(outDir)}/`,
    `${''.padEnd(width)}${names}`,
  ].join('\n');
  console.log(text);
  return text;
}

/** Mean of the first (or last) `n` values: a steadier before/after than a single noisy loss. */
export const meanOf = (xs: readonly number[], n: number, from: 'first' | 'last'): number => {
  const part = from === 'first' ? xs.slice(0, n) : xs.slice(-n);
  return part.reduce((a, b) => a + b, 0) / part.length;
};

/** Mean squared error between two series. */
export const mse = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

/** A fraction as a percentage with one decimal, e.g. `97.5%`. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/**
 * The summary's training row: `<done> <what> in <seconds> s (<rate> it/s)`, then whether a signal stopped the run
 * and the iteration it resumed at.
 */
export function trainingRow(
  done: number,
  seconds: number,
  { what = 'iterations', stopped = false, resumedAt = 0 } = {},
): [string, string] {
  const rate = (done / seconds).toFixed(1);
  const notes = `${stopped ? ', stopped by a signal' : ''}${resumedAt > 0 ? `, resumed at ${resumedAt}` : ''}`;
  return ['training', `${done} ${what} in ${seconds.toFixed(1)} s (${rate} it/s)${notes}`];
}
