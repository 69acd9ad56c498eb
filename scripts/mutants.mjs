// What mutation scripts share: the tests each package's mutants run against, a package's mutable sources, and the
// mutants Stryker would make in them, listed by Stryker's own instrumenter (so the counts are what a run tests).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The tests each package's mutants run against (globs for Stryker's --testFiles).
 * Kernels' WGSL only runs through core's WebGPU backend, so their mutants need core's tests too.
 */
export const TESTS = {
  kernels: ['packages/kernels/test/**/*.test.ts', 'packages/core/test/**/*.test.ts'],
  core: ['packages/core/test/**/*.test.ts'],
  rnn: ['packages/rnn/test/**/*.test.ts'],
};

/** A mutable source: a .ts file (not .d.ts) under a mutated package's src/, repository-relative. */
export const SOURCE = /^packages\/(kernels|core|rnn)\/src\/.+(?<!\.d)\.ts$/;

/** Every mutable source of `pkg` (what stryker.config.mjs's `packages/<pkg>/src/**\/*.ts` selects), sorted. */
export function packageSources(root, pkg) {
  const dir = `packages/${pkg}/src`;
  return readdirSync(join(root, dir), { recursive: true })
    .map((p) => `${dir}/${String(p).split('\\').join('/')}`)
    .filter((p) => SOURCE.test(p))
    .sort();
}

const quiet = () => {};
const log = {
  ...{
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: console.warn,
    error: console.error,
    fatal: console.error,
  },
  isTraceEnabled: () => false,
  isDebugEnabled: () => false,
  isInfoEnabled: () => false,
  isWarnEnabled: () => true,
  isErrorEnabled: () => true,
  isFatalEnabled: () => true,
};

/**
 * A --mutate pattern with a range, `file:line[:col]-line[:col]`, read as Stryker's project reader reads it (its
 * MUTATION_RANGE_REGEX; lines 1-based there, one taken off; columns as given, 0-based): `{ file, range }`, where
 * `range` is what the reader hands the instrumenter. A pattern without a range gives `range: undefined`.
 */
export function parseMutatePattern(pattern) {
  const m = /(.*?):((\d+)(?::(\d+))?-(\d+)(?::(\d+))?)$/.exec(pattern);
  if (!m) return { file: pattern, range: undefined };
  const [, file, , startLine, startColumn = '0', endLine, endColumn = String(Number.MAX_SAFE_INTEGER)] = m;
  const at = (line, column) => ({ line: Number(line) - 1, column: Number(column) });
  return { file, range: { start: at(startLine, startColumn), end: at(endLine, endColumn) } };
}

/**
 * The mutants Stryker would make in `files` (repository-relative), as its API describes them: `{ fileName,
 * mutatorName, replacement, location: { start, end } (0-based lines and columns), status }`, where `status` is
 * 'Ignored' for those its `Stryker disable` comments (or `ignorers`) ignore. Static mutants cannot be told here
 * (Stryker finds them in the dry run's coverage), so they are among the others. `patterns`, when given, are
 * --mutate ranges (`file:line:col-line:col`): only the mutants they select, as a Stryker run with them would.
 */
export async function listMutants(root, files, { patterns, ignorers = [] } = {}) {
  const here = createRequire(import.meta.url);
  const core = createRequire(here.resolve('@stryker-mutator/core/package.json'));
  const { Instrumenter } = await import(core.resolve('@stryker-mutator/instrumenter'));
  const ranges = new Map();
  for (const { file, range } of (patterns ?? []).map(parseMutatePattern)) {
    ranges.set(file, [...(ranges.get(file) ?? []), range]);
  }
  const input = files.map((name) => ({
    name,
    content: readFileSync(join(root, name), 'utf8'),
    mutate: patterns === undefined ? true : (ranges.get(name) ?? []),
  }));
  const { mutants } = await new Instrumenter(log).instrument(input, {
    plugins: null,
    excludedMutations: [],
    ignorers,
  });
  return mutants;
}

/** Mutants Stryker would make in `files`, minus those its `Stryker disable` comments ignore. */
export async function countMutants(root, files) {
  return (await listMutants(root, files)).filter((m) => m.status === undefined).length;
}
