// Mutation testing (StrykerJS). Run it through `pnpm mutate` (scripts/mutate.mjs), which picks the
// incremental file and maps --full; see README "Testing".
// @ts-check
import { fileURLToPath } from 'node:url';

// A subset run (`pnpm mutate -- --mutate <files>`) gets its own incremental file and report, so that it
// does not overwrite the whole tree's (Stryker rewrites the incremental file with the files it ran).
const run = process.env.WEBRNN_MUTATION_RUN ?? 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // By path: under pnpm, Stryker's own '@stryker-mutator/*' glob cannot see its sibling packages.
  plugins: [fileURLToPath(import.meta.resolve('@stryker-mutator/vitest-runner'))],
  vitest: { configFile: 'vitest.config.ts' },
  // Each mutant runs only the tests that executed its code in the dry run.
  coverageAnalysis: 'perTest',
  mutate: ['packages/kernels/src/**/*.ts', 'packages/core/src/**/*.ts', 'packages/rnn/src/**/*.ts'],
  // Mutants inside module-level initialisers would force a reload of every test file per mutant.
  ignoreStatic: true,
  // The machine is shared: one test-runner process unless overridden on the command line.
  concurrency: 1,
  // Tests can take seconds (WebGPU pipelines, BPTT over many steps): be generous before calling a timeout.
  timeoutMS: 60_000,
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: `reports/mutation/${run}.incremental.json`,
  reporters: ['clear-text', 'html', 'progress'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  htmlReporter: { fileName: `reports/mutation/${run}.html` },
  // The sandbox copy needs neither build outputs nor benchmark results.
  ignorePatterns: ['dist', 'bench/results', 'out', '.vitest-cache', 'reports'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
