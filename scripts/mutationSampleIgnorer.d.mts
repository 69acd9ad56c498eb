// Types of scripts/mutationSampleIgnorer.mjs for the tests that import it.
export interface Ignorer {
  shouldIgnore(path: unknown): string | undefined;
}
export function sampleIgnorer(samplePath: string, root?: string): Ignorer;
export const strykerPlugins: { kind: 'Ignore'; name: string; value: Ignorer }[];
