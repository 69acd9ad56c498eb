// Types of scripts/mutationSample.mjs for the tests that import it.
export interface Position {
  readonly line: number;
  readonly column: number;
}
export interface Location {
  readonly start: Position;
  readonly end: Position;
}
/** A mutant as Stryker's API (and instrumenter) describes it: 0-based lines and columns. */
export interface ApiMutant {
  readonly fileName: string;
  readonly mutatorName: string;
  readonly replacement: string;
  readonly location: Location;
  readonly status?: string;
}
/** A mutant of Stryker's JSON report (mutation-testing-report-schema): 1-based lines and columns. */
export interface ReportMutant {
  readonly mutatorName: string;
  readonly replacement: string;
  readonly location: Location;
  readonly status: string;
  readonly statusReason?: string;
}
export interface Report {
  readonly files: Record<string, { readonly mutants: readonly ReportMutant[] }>;
}
export interface Counts {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  static: number;
  errors: number;
  missing: number;
}
export interface SampleScore<M extends ApiMutant> {
  readonly counts: Counts;
  readonly valid: number;
  readonly score: number;
  readonly interval: { readonly low: number; readonly high: number };
  readonly survivors: (M & { readonly status: string })[];
  readonly missing: M[];
}
export function prng(seed: number): () => number;
export function sample<T>(items: readonly T[], size: number, seed: number): T[];
export function wilson(k: number, n: number, z?: number): { low: number; high: number };
export function mutantKey(file: string, location: Location, mutatorName: string, replacement: string): string;
export function mutateRange(m: ApiMutant): string;
export function scoreSample<M extends ApiMutant>(
  sampled: readonly M[],
  report: Report,
  relative?: (path: string) => string,
): SampleScore<M>;
