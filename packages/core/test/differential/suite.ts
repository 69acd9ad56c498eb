import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { webgpuForFile } from '../helpers/webgpu.js';
import type { OpEntry } from './cases.js';
import { type Config, checkCase, drawnArb } from './runner.js';

/**
 * How a differential test file runs its table (core's ops, rnn's modules): on fixed seeds in CI, or open-ended
 * under `pnpm fuzz`. The environment decides:
 * - WEBRNN_REQUIRE_WEBGPU=1: a missing adapter fails instead of narrowing the run to the CPU;
 * - WEBRNN_DIFF_RUNS: cases per entry; WEBRNN_FC_SEED: the seed; WEBRNN_DIFF_OPS: a comma-separated subset;
 * - WEBRNN_DIFF_DEVICES (cpu, webgpu): the devices compared with the reference (to tell an op's bug from a device's);
 * - WEBRNN_FUZZ_SECONDS: fuzz for that long, a new seed per entry per round.
 */
export interface Suite {
  /** The test file, for the replay line. */
  readonly file: string;
  readonly table: readonly OpEntry[];
  readonly title: (e: OpEntry) => string;
  readonly defaultRuns: number;
}

export async function differentialSuite(suite: Suite): Promise<void> {
  const env = process.env;
  const gpu = await webgpuForFile(suite.file);

  const names = env.WEBRNN_DIFF_DEVICES?.split(',') ?? ['cpu', 'webgpu'];
  const devices: Config[] = [
    { device: 'cpu' as const, float: 'float32' as const },
    ...(gpu ? [{ device: 'webgpu' as const, float: 'float32' as const }] : []),
  ].filter((c) => names.includes(c.device));
  const runs = Number(env.WEBRNN_DIFF_RUNS ?? suite.defaultRuns);
  const seed0 = Number(env.WEBRNN_FC_SEED ?? 20261204);
  const only = env.WEBRNN_DIFF_OPS?.split(',');
  const fuzzSeconds = Number(env.WEBRNN_FUZZ_SECONDS ?? 0);
  const entries = suite.table.filter((e) => !only || only.includes(e.op));

  /** The first disagreement (shrunk) as an Error: the harness's reproducer and the line that replays it. */
  const check = async (entry: OpEntry, seed: number): Promise<void> => {
    const r = await fc.check(
      fc.asyncProperty(drawnArb(entry), async (d) => {
        const m = await checkCase(entry, d, devices);
        if (m) throw new Error(m);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    if (r.failed) {
      const cause = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
      throw new Error(
        `${cause}\n  replay: WEBRNN_FC_SEED=${seed} WEBRNN_DIFF_OPS=${entry.op} npx vitest run ${suite.file} ` +
          `(case ${r.counterexamplePath} of ${runs})`,
      );
    }
  };

  if (fuzzSeconds === 0) {
    describe('every entry agrees across devices and with the float64 reference', () => {
      for (const entry of entries) it(suite.title(entry), () => check(entry, seed0));
    });
    return;
  }
  // Not with no entry to draw (WEBRNN_DIFF_OPS naming only the other table's): the loop would spin.
  if (entries.length === 0) return;
  describe('fuzz', () => {
    it(
      'open-ended: a new seed per entry per round until the time is up',
      async () => {
        const end = Date.now() + fuzzSeconds * 1000;
        const failures: string[] = [];
        let cases = 0;
        for (let round = 0; Date.now() < end; round++) {
          for (const entry of entries) {
            if (Date.now() >= end) break;
            try {
              await check(entry, seed0 + round);
            } catch (e) {
              failures.push(`${suite.title(entry)}:\n${(e as Error).message}`);
            }
            cases += runs;
          }
          console.log(
            `fuzz ${suite.file}: round ${round} (seed ${seed0 + round}), ${cases} cases, ${failures.length} failures`,
          );
        }
        expect(failures, failures.join('\n\n')).toEqual([]);
      },
      (fuzzSeconds + 600) * 1000,
    );
  });
}
