// Types of scripts/mutants.mjs for the tests that import it.
import type { ApiMutant, Location } from './mutationSample.mjs';

export const TESTS: Record<'kernels' | 'core' | 'rnn', string[]>;
export const SOURCE: RegExp;
export function packageSources(root: string, pkg: string): string[];
export function parseMutatePattern(pattern: string): { file: string; range: Location | undefined };
export function listMutants(
  root: string,
  files: string[],
  options?: { patterns?: string[]; ignorers?: unknown[] },
): Promise<ApiMutant[]>;
export function countMutants(root: string, files: string[]): Promise<number>;
