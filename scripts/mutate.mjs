#!/usr/bin/env node
// `pnpm mutate [--full] [--mutate <files>] [other stryker options]`: StrykerJS with stryker.config.mjs.
// - default: incremental; only mutants in code or tests changed since the last run are retested.
// - --full: every mutant is retested (Stryker's --force); the incremental file is rewritten.
// - --mutate <files>: a subset. Stryker rewrites its incremental file with the mutants of the files it ran,
//   so a subset keeps its own incremental file and html report; the whole-tree ones keep every file.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2).filter((a) => a !== '--');
const strykerArgs = [];
let subset;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--full') strykerArgs.push('--force');
  else {
    if (a === '--mutate' || a === '-m') subset = args[i + 1];
    else if (a.startsWith('--mutate=')) subset = a.slice('--mutate='.length);
    strykerArgs.push(a);
  }
}
if (subset !== undefined) {
  const name = subset.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '');
  // stryker.config.mjs names the incremental file and the html report after it (CI names its own run).
  process.env.WEBRNN_MUTATION_RUN ??= name;
}

const bin = fileURLToPath(new URL('../node_modules/@stryker-mutator/core/bin/stryker.js', import.meta.url));
const run = spawnSync(process.execPath, [bin, 'run', 'stryker.config.mjs', ...strykerArgs], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
