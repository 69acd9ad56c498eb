/**
 * The benchmark: every peer in its own process, in one invocation; a table of figures and of ratios to the best
 * peer, written to bench/results/ as JSON and markdown.
 *
 *   node bench/dist/run.js [--peers ours-cpu,tfjs-cpu,...] [--workloads seed-cos,matmul-512,...] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { relaunchWithoutDawnWarnings } from '@webrnn/core';
import { CHAR_GEN, CHAR_LSTM, MATMUL_SIZES, type Measurement, SEED_COS, SMALL_LATENCY } from './workloads.js';

const ALL_WORKLOADS = [
  'seed-cos',
  'char-lstm-train',
  'char-lstm-infer',
  'char-lstm-gen',
  'small-latency',
  ...MATMUL_SIZES.map((n) => `matmul-${n}`),
];
const OURS = ['ours-cpu', 'ours-webgpu'];
const TFJS = ['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu'];
const PEERS = [...TFJS, 'pytorch-cpu'];
const here = path.dirname(fileURLToPath(import.meta.url));

/** Run one peer in a child process; its results come back on a line starting with RESULT. */
function runPeer(peer: string, workloads: readonly string[]): Measurement[] {
  const started = Date.now();
  process.stdout.write(`  ${peer.padEnd(12)} `);
  const child =
    peer === 'pytorch-cpu'
      ? spawnSync(
          '/usr/bin/python3',
          [
            path.join(here, '../python/torch_peer.py'),
            JSON.stringify({
              workloads,
              seedCos: SEED_COS,
              charLstm: CHAR_LSTM,
              charGen: CHAR_GEN,
              smallLatency: SMALL_LATENCY,
            }),
          ],
          { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(os.availableParallelism()) } },
        )
      : spawnSync(process.execPath, [path.join(here, 'peer.js'), peer, ...workloads], {
          encoding: 'utf8',
          env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
        });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (child.status !== 0 || !line) {
    const why =
      child.error?.message ?? (child.stderr || child.stdout || '').trim().split('\n').slice(-3).join(' | ');
    console.log(`skipped (${seconds} s): ${why.slice(0, 300)}`);
    return [];
  }
  console.log(`done (${seconds} s)`);
  return JSON.parse(line.slice(7)) as Measurement[];
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Markdown table: one row per workload, one column per peer, and our ratio to the best peer. */
function table(results: Measurement[], peers: readonly string[], workloads: readonly string[]): string {
  const cols = peers.filter((p) => results.some((r) => r.peer === p));
  const lines = [
    `| workload | unit | ${cols.join(' | ')} | ours / best TF.js | ours / PyTorch |`,
    `| --- | --- | ${cols.map(() => '---:').join(' | ')} | ---: | ---: |`,
  ];
  for (const w of workloads) {
    const row = results.filter((r) => r.workload === w);
    if (row.length === 0) continue;
    const get = (p: string) => row.find((r) => r.peer === p);
    const better = (a: number, b: number) => (row[0]!.higherIsBetter ? a > b : a < b);
    const bestOf = (names: string[]) =>
      names
        .map(get)
        .filter((r): r is Measurement => r !== undefined)
        .reduce<Measurement | undefined>(
          (best, r) => (!best || better(r.value, best.value) ? r : best),
          undefined,
        );
    const ours = bestOf(OURS);
    const ratio = (peer: Measurement | undefined) =>
      ours && peer
        ? `${fmt(row[0]!.higherIsBetter ? ours.value / peer.value : peer.value / ours.value)}x (${ours.peer} vs ${peer.peer})`
        : '';
    const cells = cols.map((c) => (get(c) ? fmt(get(c)!.value) : ''));
    lines.push(
      `| ${w} | ${row[0]!.unit} | ${cells.join(' | ')} | ${ratio(bestOf(TFJS))} | ${ratio(get('pytorch-cpu'))} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string', default: [...OURS, ...PEERS].join(',') },
      workloads: { type: 'string', default: ALL_WORKLOADS.join(',') },
      out: { type: 'string', default: path.join(here, '../results') },
      merge: { type: 'string', default: '' },
    },
  });
  const peers = values.peers.split(',');
  const workloads = values.workloads.split(',');
  // An unknown name would otherwise measure nothing and print an empty table.
  const unknown = (given: readonly string[], known: readonly string[], what: string) => {
    const bad = given.filter((g) => !known.includes(g));
    if (bad.length > 0) throw new Error(`unknown ${what} ${bad.join(', ')}: one of ${known.join(', ')}`);
  };
  unknown(peers, [...OURS, ...PEERS], '--peers');
  unknown(workloads, ALL_WORKLOADS, '--workloads');
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.availableParallelism()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  console.log(`webrnn benchmark on ${machine}\nworkloads: ${workloads.join(', ')}`);
  const fresh = peers.flatMap((p) => runPeer(p, workloads));
  // --merge an earlier latest.json: keep its figures for the peers not measured in this run.
  const earlier: Measurement[] = values.merge
    ? (JSON.parse(readFileSync(values.merge, 'utf8')) as { results: Measurement[] }).results
    : [];
  const results = [...earlier.filter((r) => !peers.includes(r.peer)), ...fresh];
  const allPeers = [...OURS, ...PEERS].filter((p) => results.some((r) => r.peer === p));
  const md = table(results, allPeers, workloads);
  console.log(`\n${md}\n`);
  mkdirSync(values.out, { recursive: true });
  const stamp = new Date().toISOString();
  writeFileSync(
    path.join(values.out, 'latest.json'),
    JSON.stringify({ machine, date: stamp, results }, null, 2),
  );
  writeFileSync(path.join(values.out, 'latest.md'), `Measured ${stamp} on ${machine}.\n\n${md}\n`);
  console.log(`results written to ${values.out}/latest.{json,md}`);
}

// Dawn's two adapter warnings (from each peer process that looks for an adapter) are dropped; WEBRNN_VERBOSE=1 keeps them.
if (!relaunchWithoutDawnWarnings()) await main();
