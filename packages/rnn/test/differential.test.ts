import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { initWebGPU, lastWebGPUError, nn } from '@webrnn/rnn';
import { type Config, checkCase, drawnArb } from '../../core/test/differential/runner.js';
import type { OpEntry } from '../../core/test/differential/cases.js';
import { MODULE_TABLE, NOT_MODULES } from './differential/table/index.js';

/**
 * The differential harness of @webrnn/core (packages/core/test/differential) over every module and criterion of
 * `nn`: each built from a seed on every configuration, run the Torch way on inputs reached through random view
 * chains, on the CPU in float64 (the reference), in float32 and on WebGPU; outputs, gradInputs and the
 * parameters' gradients compared with the entry's tolerance. `pnpm fuzz` runs it open-ended, with the same
 * variables as core's: WEBRNN_DIFF_RUNS (cases per entry), WEBRNN_DIFF_OPS (a comma-separated subset of names),
 * WEBRNN_FC_SEED, WEBRNN_FUZZ_SECONDS; and WEBRNN_DIFF_DEVICES (cpu or webgpu) the devices compared with the
 * reference.
 */
const gpu = await initWebGPU();
if (!gpu && process.env.WEBRNN_REQUIRE_WEBGPU === '1') {
  throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${lastWebGPUError()}`);
}
if (!gpu) console.log(`module differential harness: cpu only (${lastWebGPUError()})`);
afterAll(() => gpu?.destroy());

// WEBRNN_DIFF_DEVICES=cpu (or webgpu) narrows the devices under test, to tell a module's bug from a device's.
const DEVICE_NAMES = process.env.WEBRNN_DIFF_DEVICES?.split(',') ?? ['cpu', 'webgpu'];
const DEVICES: Config[] = [
  { device: 'cpu' as const, float: 'float32' as const },
  ...(gpu ? [{ device: 'webgpu' as const, float: 'float32' as const }] : []),
].filter((c) => DEVICE_NAMES.includes(c.device));
const RUNS = Number(process.env.WEBRNN_DIFF_RUNS ?? 8);
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261204);
const ONLY = process.env.WEBRNN_DIFF_OPS?.split(',');
const FUZZ_SECONDS = Number(process.env.WEBRNN_FUZZ_SECONDS ?? 0);
const entries = MODULE_TABLE.filter((e) => !ONLY || ONLY.includes(e.op));
const title = (e: OpEntry) => `nn.${e.op}${e.label ? ` (${e.label})` : ''}`;

/**
 * Runs the cases of `entry` drawn from `seed`; the first disagreement (shrunk) as an Error whose message is the
 * harness's reproducer, with the seed and path that replay it.
 */
async function check(entry: OpEntry, seed: number, numRuns: number): Promise<void> {
  const r = await fc.check(
    fc.asyncProperty(drawnArb(entry), async (d) => {
      const m = await checkCase(entry, d, DEVICES);
      if (m) throw new Error(m);
    }),
    { numRuns, seed, endOnFailure: true },
  );
  if (r.failed) {
    const cause = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    throw new Error(
      `${cause}\n  replay: WEBRNN_FC_SEED=${seed} WEBRNN_DIFF_OPS=${entry.op} npx vitest run ` +
        `packages/rnn/test/differential.test.ts (case ${r.counterexamplePath} of ${numRuns})`,
    );
  }
}

describe('the module table', () => {
  it('names every export of nn: a module or criterion in the table, or another export with its reason', () => {
    const tested = new Set(MODULE_TABLE.map((e) => e.op));
    const missing = Object.keys(nn).filter((k) => !tested.has(k) && !(k in NOT_MODULES));
    expect(missing, 'exports of nn neither in MODULE_TABLE nor in NOT_MODULES').toEqual([]);
    const stale = [...tested, ...Object.keys(NOT_MODULES)].filter((k) => !(k in nn));
    expect(stale, 'table entries that are not exports of nn').toEqual([]);
    const both = Object.keys(NOT_MODULES).filter((k) => tested.has(k));
    expect(both, 'exports both run and excused').toEqual([]);
  });
});

if (FUZZ_SECONDS === 0)
  describe('every module agrees across devices and with the float64 reference', () => {
    for (const entry of entries) it(title(entry), () => check(entry, SEED, RUNS));
  });

// Not with no entry to draw (WEBRNN_DIFF_OPS naming only ops of the other harness): the loop would spin.
if (FUZZ_SECONDS > 0 && entries.length > 0)
  describe('fuzz', () => {
    it(
      'open-ended: a new seed per entry per round until the time is up',
      async () => {
        const end = Date.now() + FUZZ_SECONDS * 1000;
        const failures: string[] = [];
        let cases = 0;
        for (let round = 0; Date.now() < end; round++) {
          for (const entry of entries) {
            if (Date.now() >= end) break;
            const seed = SEED + round;
            try {
              await check(entry, seed, RUNS);
            } catch (e) {
              failures.push(
                `${title(entry)}, WEBRNN_FC_SEED=${seed} WEBRNN_DIFF_OPS=${entry.op}:\n${(e as Error).message}`,
              );
            }
            cases += RUNS;
          }
          console.log(
            `fuzz (nn): round ${round} done (seed ${SEED + round}), ${cases} cases, ${failures.length} failing entries`,
          );
        }
        expect(failures, failures.join('\n\n')).toEqual([]);
      },
      (FUZZ_SECONDS + 600) * 1000,
    );
  });
