#!/usr/bin/env node
// `pnpm fuzz [--seconds N] [--seed S] [--runs R] [--ops a,b]`: the differential harness open-ended. It draws new
// cases for every op of @webrnn/core (a new seed per round) until N seconds have passed, on the CPU and, where an
// adapter exists, WebGPU; each failure prints a minimal reproducer and the seed that replays it.
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
console.log(
  `fuzz: ${env.WEBRNN_FUZZ_SECONDS} s from seed ${env.WEBRNN_FC_SEED}, ${env.WEBRNN_DIFF_RUNS} cases per op per round`,
);
const r = spawnSync('npx', ['vitest', 'run', 'packages/core/test/differential.test.ts'], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
