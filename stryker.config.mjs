// Mutation testing (StrykerJS). Run it through `pnpm mutate` (scripts/mutate.mjs), which picks the
// incremental file and maps --full; see README "Testing".
// @ts-check
import { fileURLToPath } from 'node:url';

// A subset run (`pnpm mutate -- --mutate <files>`) gets its own incremental file and report, so that it
// does not overwrite the whole tree's (Stryker rewrites the incremental file with the files it ran).
const run = process.env.WEBRNN_MUTATION_RUN ?? 'all';
// scripts/mutate-sample.mjs names its sample's file here: an ignorer then keeps only the sampled mutants' nodes.
const sample = process.env.WEBRNN_MUTATION_SAMPLE;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // By path: under pnpm, Stryker's own '@stryker-mutator/*' glob cannot see its sibling packages.
  plugins: [
    fileURLToPath(import.meta.resolve('@stryker-mutator/vitest-runner')),
    ...(sample ? [fileURLToPath(new URL('./scripts/mutationSampleIgnorer.mjs', import.meta.url))] : []),
  ],
  ...(sample ? { ignorers: ['webrnn-sample'] } : {}),
  vitest: { configFile: 'vitest.config.ts' },
  // Each mutant runs only the tests that executed its code in the dry run.
  coverageAnalysis: 'perTest',
  mutate: ['packages/kernels/src/**/*.ts', 'packages/core/src/**/*.ts', 'packages/rnn/src/**/*.ts'],
  // Mutants inside module-level initialisers would force a reload of every test file per mutant.
  ignoreStatic: true,
  // The machine is shared: one test-runner process unless overridden on the command line.
  concurrency: 1,
  // A mutant's time limit is 1.5 x the covering tests' time in the dry run + this: enough for jitter on a shared
  // machine; a mutant that loops forever (a flipped loop bound) then costs 10 s, not a minute.
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: `reports/mutation/${run}.incremental.json`,
  reporters: ['clear-text', 'html', 'progress'],
  // CI (scripts/mutate-changed.mjs) prints the survivors and the scores, not the tree of every test.
  clearTextReporter: {
    allowColor: false,
    logTests: false,
    reportTests: process.env.WEBRNN_MUTATION_CI === undefined,
    reportScoreTable: true,
  },
  // The one threshold: a run whose score (killed + timed out over all but the ignored) is below `break` fails,
  // in CI and by hand. The targets are 90% for core and rnn, 85% for kernels; `break` is the floor.
  thresholds: { high: 90, low: 85, break: 80 },
  htmlReporter: { fileName: `reports/mutation/${run}.html` },
  // Written only by a run that asks for the 'json' reporter (scripts/mutate-sample.mjs reads it).
  jsonReporter: { fileName: `reports/mutation/${run}.json` },
  // The sandbox copy needs neither build outputs nor benchmark results.
  ignorePatterns: ['dist', 'bench/results', 'out', '.vitest-cache', 'reports'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
