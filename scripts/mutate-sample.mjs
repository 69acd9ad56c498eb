#!/usr/bin/env node
// A package's mutation score from a random sample of its mutants (a full run of a package takes hours here).
//
// Usage: node scripts/mutate-sample.mjs --package core|rnn|kernels [--size 150] [--seed 1] [--plan] [--rescore]
//   Lists every mutant Stryker would make in packages/<pkg>/src (its own instrumenter; those its `Stryker disable`
//   comments ignore left out; static ones cannot be told before Stryker's dry run, so they are in the population,
//   and a sampled static one is left out of the score as Stryker does), draws a seeded uniform sample of `size`,
//   prints it (--plan stops there), runs Stryker on exactly those mutants with the package's tests, and prints the
//   score of the sample, (killed + timeout) / (sampled - ignored - static - errors), with its 95% Wilson interval,
//   and the survivors. --rescore scores the last run of the same package, size and seed again (its report and the
//   sample it ran, saved with it) instead of running.
// The run is `--force`d, at concurrency 1, under its own name (WEBRNN_MUTATION_RUN=sample-<pkg>-<size>-<seed>), so it
// reuses and overwrites nothing of other runs; its report is reports/mutation/<name>.{json,html,sample.json}.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { listMutants, packageSources, TESTS } from './mutants.mjs';
import { mutateRange, sample, scoreSample } from './mutationSample.mjs';

function option(argv, name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const where = (m) => `${m.fileName}:${m.location.start.line + 1}:${m.location.start.column + 1}`;

async function main() {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const pkg = option(argv, '--package');
  const size = Number(option(argv, '--size', '150'));
  const seed = Number(option(argv, '--seed', '1'));
  if (!(pkg in TESTS) || !Number.isInteger(size) || size < 1 || !Number.isInteger(seed)) {
    console.error(
      `usage: node scripts/mutate-sample.mjs --package ${Object.keys(TESTS).join('|')} [--size N >= 1] [--seed integer] [--plan] [--rescore]`,
    );
    return 2;
  }
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const files = packageSources(root, pkg);
  const all = await listMutants(root, files);
  const population = all.filter((m) => m.status === undefined);
  const drawn = sample(population, size, seed);
  const name = `sample-${pkg}-${size}-${seed}`;
  console.log(
    `mutate-sample: ${pkg}: ${population.length} mutants in ${files.length} files (${all.length - population.length} marked 'Stryker disable' left out; static ones are still in: only the dry run tells them); sample of ${drawn.length}, seed ${seed}`,
  );
  if (argv.includes('--plan')) {
    for (const m of drawn)
      console.log(`  ${where(m)} ${m.mutatorName} -> ${m.replacement.replace(/\s+/g, ' ')}`);
    return 0;
  }
  const out = join(root, 'reports/mutation');
  mkdirSync(out, { recursive: true });
  const samplePath = join(out, `${name}.sample.json`);
  const reportPath = join(out, `${name}.json`);
  if (!argv.includes('--rescore')) {
    writeFileSync(samplePath, JSON.stringify(drawn));
    rmSync(reportPath, { force: true }); // a run that fails before its report must not be scored by an older one
    const args = [
      join(root, 'scripts/mutate.mjs'),
      '--full',
      '--concurrency',
      '1',
      '--reporters',
      'progress,json,html',
      '--mutate',
      drawn.map(mutateRange).join(','),
      '--testFiles',
      TESTS[pkg].join(','),
    ];
    const env = { ...process.env, WEBRNN_MUTATION_RUN: name, WEBRNN_MUTATION_SAMPLE: samplePath };
    const run = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    // Below thresholds.break Stryker exits 1, with its report written: that is still a result.
    if (!existsSync(reportPath)) return run.status ?? 1;
  }
  // The sample the run was made with (the sources, and so the draw, may have changed since: new marks).
  const ran = JSON.parse(readFileSync(samplePath, 'utf8'));
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const r = scoreSample(ran, report, (p) => relative(root, resolve(root, p)).split('\\').join('/'));
  const c = r.counts;
  console.log(
    `mutate-sample: ${pkg}, seed ${seed}: ${ran.length} sampled: ${c.killed} killed, ${c.timeout} timed out, ${c.survived} survived, ${c.noCoverage} without coverage, ${c.static} static, ${c.ignored} ignored, ${c.errors} errors, ${c.missing} not in the report`,
  );
  console.log(
    `mutate-sample: score ${pct(r.score)} of ${r.valid} (95% Wilson interval ${pct(r.interval.low)}-${pct(r.interval.high)})`,
  );
  for (const s of r.survivors) {
    console.log(`  ${s.status}: ${where(s)} ${s.mutatorName} -> ${s.replacement.replace(/\s+/g, ' ')}`);
  }
  for (const s of r.missing) console.log(`  not in the report: ${where(s)} ${s.mutatorName}`);
  return c.missing === 0 ? 0 : 1;
}

process.exitCode = await main();
