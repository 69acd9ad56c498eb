#!/usr/bin/env node
// CI's mutation step (scripts/test.sh): StrykerJS on the sources of packages/{kernels,core,rnn}/src that the last
// change touched (`git diff HEAD^1 HEAD`: for a merge, what the merged branch brought to its first parent), with the
// tests of their packages, when it fits the budget. Over budget, or with nothing to mutate, it prints why and passes.
// The score threshold below which it fails is stryker.config.mjs's `thresholds.break`, written once there.
//
// Usage: node scripts/mutate-changed.mjs [--plan] [--base <rev>]
//   --plan  print the decision as JSON (files, tests, mutants, skip reason) and run nothing.
//   --base  the revision to compare HEAD with (default HEAD^1).
// Budget: WEBRNN_MUTATION_MAX_MUTANTS (default 300) counted before anything runs, from Stryker's own instrumenter,
// and WEBRNN_MUTATION_MAX_MINUTES (default 15) for the whole Stryker run, stopped past it (not judged, passes).
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { countMutants, SOURCE, TESTS } from './mutants.mjs';

const MAX_MUTANTS = Number(process.env.WEBRNN_MUTATION_MAX_MUTANTS ?? 300);
const MAX_MINUTES = Number(process.env.WEBRNN_MUTATION_MAX_MINUTES ?? 15);

/** The changed paths (repository-relative) that are mutable sources: .ts under a mutated package's src/. */
function mutableSources(paths) {
  return [...new Set(paths.filter((p) => SOURCE.test(p)))].sort();
}

/** The test path prefixes for `sources`, in a stable order. */
function testsFor(sources) {
  const pkgs = new Set(sources.map((s) => s.split('/')[1]));
  return [...new Set([...pkgs].sort().flatMap((p) => TESTS[p]))];
}

function git(root, args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What the step will do: `{ files, tests, mutants, skip }`; `skip` is the printed reason when it runs nothing. */
async function plan(root, base = 'HEAD^1') {
  const none = (skip) => ({ files: [], tests: [], mutants: 0, skip });
  try {
    git(root, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`]);
  } catch {
    return none(`no ${base} to compare with (first commit or shallow clone)`);
  }
  // Deleted files have nothing to mutate (--diff-filter=d leaves them out).
  const changed = git(root, ['diff', '--name-only', '--diff-filter=d', base, 'HEAD'])
    .split('\n')
    .filter(Boolean);
  const files = mutableSources(changed);
  if (files.length === 0) return none(`no file of packages/{kernels,core,rnn}/src changed since ${base}`);
  const tests = testsFor(files);
  const mutants = await countMutants(root, files);
  if (mutants === 0) return { files, tests, mutants, skip: 'the changed sources have no mutants' };
  const skip =
    mutants > MAX_MUTANTS
      ? `${mutants} mutants exceed the CI budget of ${MAX_MUTANTS} (WEBRNN_MUTATION_MAX_MUTANTS); run \`pnpm mutate -- --mutate ${files.join(',')}\` before merging`
      : undefined;
  return { files, tests, mutants, skip };
}

/** Runs scripts/mutate.mjs on the plan within MAX_MINUTES; resolves with the exit code to pass on. */
function mutate(root, { files, tests }) {
  // --full: every mutant tested, none reused from a developer's earlier run of these files (a run of its own).
  const args = [
    join(root, 'scripts/mutate.mjs'),
    '--full',
    '--mutate',
    files.join(','),
    '--testFiles',
    tests.join(','),
  ];
  // A process group of its own, so that the time limit stops Stryker's test-runner children too.
  const env = { ...process.env, WEBRNN_MUTATION_CI: '1', WEBRNN_MUTATION_RUN: 'ci' };
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit', detached: true });
  // Stopped early (past the time limit, or a CI cancel passed on: the child is detached), Stryker leaves its
  // sandbox behind.
  let stopped = null;
  const stop = (why, sig) => {
    stopped = why;
    process.kill(-child.pid, sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => stop(`cancelled (${sig})`, sig));
  return new Promise((resolve) => {
    const limit = `stopped after ${MAX_MINUTES} minutes (WEBRNN_MUTATION_MAX_MINUTES); not judged`;
    const timer = setTimeout(() => stop(limit, 'SIGTERM'), MAX_MINUTES * 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (stopped === null) return resolve(code ?? 1);
      rmSync(join(root, '.stryker-tmp'), { recursive: true, force: true });
      console.log(`mutation: ${stopped}`);
      resolve(stopped === limit ? 0 : 1);
    });
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--base');
  const base = at >= 0 ? argv[at + 1] : 'HEAD^1';
  const root = git(process.cwd(), ['rev-parse', '--show-toplevel']).trim();
  const p = await plan(root, base);
  if (argv.includes('--plan')) {
    console.log(JSON.stringify(p));
    return 0;
  }
  if (p.skip) {
    console.log(`mutation: skipped: ${p.skip}`);
    return 0;
  }
  console.log(`mutation: ${p.mutants} mutants in ${p.files.join(', ')}; tests: ${p.tests.join(', ')}`);
  return mutate(root, p);
}

process.exitCode = await main();
