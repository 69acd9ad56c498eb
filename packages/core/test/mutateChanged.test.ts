import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/mutate-changed.mjs (CI's mutation step) chooses which sources to mutate from the last change. Each case
 * is a throw-away git repository; `--plan` prints the decision without running Stryker (the mutants are counted by
 * Stryker's own instrumenter, so the counts below are what a run would test).
 */
const script = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/mutate-changed.mjs');

interface Plan {
  readonly files: string[];
  readonly tests: string[];
  readonly mutants: number;
  readonly skip?: string;
}

const repos: string[] = [];
afterAll(() => {
  for (const r of repos) rmSync(r, { recursive: true, force: true });
});

function git(root: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't' };
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, GIT_COMMITTER_EMAIL: 't@t' },
  });
}

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** A repository whose first commit holds `files`. */
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mutate-changed-'));
  repos.push(root);
  git(root, 'init', '-q', '-b', 'main');
  write(root, files);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'first');
  return root;
}

function commit(root: string, files: Record<string, string>, remove: string[] = []): void {
  write(root, files);
  for (const r of remove) git(root, 'rm', '-q', r);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'change');
}

function plan(root: string, env: Record<string, string> = {}): Plan {
  const out = execFileSync('node', [script, '--plan'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return JSON.parse(out) as Plan;
}

// One comparison (=== -> !==, true, false), so a known, small number of mutants per file.
const src = (name: string) => `export function ${name}(a: number): boolean {\n  return a === 1;\n}\n`;

describe('mutate-changed: the files CI mutates', () => {
  it('takes .ts sources of kernels, core and rnn changed by the last commit; not tests, docs, examples or .d.ts', () => {
    const root = repo({ 'packages/core/src/old.ts': src('old'), 'README.md': 'x' });
    commit(root, {
      'packages/core/src/ops/b.ts': src('b'),
      'packages/kernels/src/k.ts': src('k'),
      'packages/rnn/src/nn/r.ts': src('r'),
      'packages/core/src/types.d.ts': 'export type T = number;\n',
      'packages/core/test/b.test.ts': src('t'),
      'packages/examples/src/e.ts': src('e'),
      'packages/core/src/notes.md': 'x',
      'bench/src/run.ts': src('run'),
      'README.md': 'y',
    });
    const p = plan(root);
    expect(p.files).toEqual([
      'packages/core/src/ops/b.ts',
      'packages/kernels/src/k.ts',
      'packages/rnn/src/nn/r.ts',
    ]);
    // Kernels' WGSL runs only through core's backend: its mutants need core's tests too.
    expect(p.tests).toEqual([
      'packages/core/test/**/*.test.ts',
      'packages/kernels/test/**/*.test.ts',
      'packages/rnn/test/**/*.test.ts',
    ]);
    expect(p.mutants).toBeGreaterThanOrEqual(3 * 2);
    expect(p.skip).toBeUndefined();
  });

  it('looks at the last commit only, leaves deleted files out, and names the packages of what it keeps', () => {
    const root = repo({ 'packages/core/src/a.ts': src('a'), 'packages/core/src/gone.ts': src('gone') });
    commit(root, { 'packages/kernels/src/k.ts': src('k') }, ['packages/core/src/gone.ts']);
    const p = plan(root);
    expect(p.files).toEqual(['packages/kernels/src/k.ts']);
    expect(p.tests).toEqual(['packages/kernels/test/**/*.test.ts', 'packages/core/test/**/*.test.ts']);
  });

  it("a merge is judged by what it brings to its first parent, not by the other branch's base", () => {
    const root = repo({ 'packages/core/src/a.ts': src('a') });
    git(root, 'checkout', '-q', '-b', 'side');
    commit(root, { 'packages/rnn/src/side.ts': src('side') });
    git(root, 'checkout', '-q', 'main');
    commit(root, { 'packages/core/src/main.ts': src('main') });
    git(root, 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
    expect(plan(root).files).toEqual(['packages/rnn/src/side.ts']);
  });

  it('skips with a reason, and passes, when no source changed, on a first commit, or over the mutant budget', () => {
    const root = repo({ 'packages/core/src/a.ts': src('a') });
    expect(plan(root)).toMatchObject({
      files: [],
      skip: expect.stringMatching(/^no HEAD\^1 to compare with/),
    });
    commit(root, { 'README.md': 'docs only' });
    expect(plan(root)).toMatchObject({ files: [], skip: expect.stringMatching(/^no file of packages/) });
    commit(root, { 'packages/core/src/a.ts': src('a2') });
    const within = plan(root);
    expect(within.skip).toBeUndefined();
    const over = plan(root, { WEBRNN_MUTATION_MAX_MUTANTS: String(within.mutants - 1) });
    expect(over.mutants).toBe(within.mutants);
    expect(over.skip).toMatch(
      new RegExp(`^${within.mutants} mutants exceed the CI budget of ${within.mutants - 1}`),
    );
    // Exactly at the budget it runs.
    expect(plan(root, { WEBRNN_MUTATION_MAX_MUTANTS: String(within.mutants) }).skip).toBeUndefined();
  });

  it("mutants marked 'Stryker disable' are not counted against the budget", () => {
    const root = repo({ 'packages/core/src/a.ts': src('a') });
    commit(root, { 'packages/core/src/a.ts': src('a2') });
    const all = plan(root).mutants;
    commit(root, { 'packages/core/src/a.ts': `// Stryker disable all: a fixture\n${src('a3')}` });
    expect(all).toBeGreaterThan(0);
    expect(plan(root)).toMatchObject({ mutants: 0, skip: 'the changed sources have no mutants' });
  });
});
