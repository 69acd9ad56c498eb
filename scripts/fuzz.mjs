#!/usr/bin/env node
// `pnpm fuzz [--seconds N] [--seed S] [--runs R] [--ops a,b] [--only core|nn]`: the differential harnesses
// open-ended. They draw new cases for every op of @webrnn/core and every module and criterion of @webrnn/rnn's nn
// (a new seed per round) until N seconds have passed, on the CPU and, where an adapter exists, WebGPU; each
// failure prints a reproducer and the seed that replays it. The N seconds are split between the two files
// (--ops names ops, modules or both; --only runs one file with all of them).
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2).filter((a) => a !== '--');
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const env = {
  ...process.env,
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
  WEBRNN_FUZZ_SECONDS: flag('seconds', '60'),
  WEBRNN_FC_SEED: flag('seed', String(Date.now() % 2 ** 31)),
  WEBRNN_DIFF_RUNS: flag('runs', '25'),
  ...(flag('ops') ? { WEBRNN_DIFF_OPS: flag('ops') } : {}),
};
const FILES = {
  core: 'packages/core/test/differential.test.ts',
  nn: 'packages/rnn/test/differential.test.ts',
};
const only = flag('only');
if (only !== undefined && !(only in FILES)) {
  console.error(`fuzz: --only takes ${Object.keys(FILES).join(' or ')}, got ${only}`);
  process.exit(2);
}
const files = only ? [FILES[only]] : Object.values(FILES);
// Each file gets its share of the time (a file's own round is cut at its end, so the total holds).
const seconds = Number(env.WEBRNN_FUZZ_SECONDS);
const share = String(Math.max(1, Math.floor(seconds / files.length)));
console.log(
  `fuzz: ${seconds} s from seed ${env.WEBRNN_FC_SEED}, ${env.WEBRNN_DIFF_RUNS} cases per op per round, over ${files.join(' and ')}`,
);
let status = 0;
for (const file of files) {
  // Both files run even when the first fails: each failure is worth its reproducer.
  const r = spawnSync('npx', ['vitest', 'run', file], {
    stdio: 'inherit',
    env: { ...env, WEBRNN_FUZZ_SECONDS: share },
  });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
