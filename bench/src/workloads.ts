/**
 * The benchmark's workloads, one spec each, shared by every peer so that all run exactly the same sizes.
 */
export const SEED_COS = { input: 1, hidden: 300, rho: 10, batch: 80, lr: 0.05 } as const;
export const CHAR_LSTM = {
  vocab: 65,
  embed: 64,
  hidden: 256,
  layers: 2,
  seq: 50,
  batch: 32,
  lr: 0.1,
} as const;
/** Generation: the char model at batch 1, one token at a time, each the argmax of the last logits (read on the host). */
export const CHAR_GEN = { tokens: 100 } as const;
/** The index of the largest of the values (the first on ties): how every JavaScript peer picks the next token. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export const SMALL_LATENCY = { input: 128, hidden: 128, batch: 1, steps: 100 } as const;
export const MATMUL_SIZES = [256, 512, 1024] as const;

export type WorkloadName =
  | 'seed-cos'
  | 'char-lstm-train'
  | 'char-lstm-infer'
  | 'char-lstm-gen'
  | 'small-latency'
  | `matmul-${number}`;

/** One measured figure. `higherIsBetter` decides how ratios are read. */
export interface Measurement {
  readonly peer: string;
  readonly workload: WorkloadName;
  readonly value: number;
  readonly unit: 'it/s' | 'tokens/s' | 'ms/seq' | 'GFLOP/s';
  readonly higherIsBetter: boolean;
  /** Peak memory seen while running it. */
  readonly rssBytes?: number;
  readonly gpuBytes?: number;
  readonly note?: string;
}

/** Deterministic pseudo-random numbers (so peers train on identical data). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Time `fn` repeatedly: warm up, then run until `minSeconds` and at least `minRuns`; the median run time. */
export async function timeIt(
  fn: () => Promise<void> | void,
  { warmup = 1, minRuns = 3, minSeconds = 2, maxRuns = 1000 } = {},
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxRuns &&
    (times.length < minRuns || performance.now() - start < minSeconds * 1000)
  ) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]! / 1000;
}
