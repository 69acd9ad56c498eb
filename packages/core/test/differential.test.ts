import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { initWebGPU, lastWebGPUError } from '@webrnn/core';
import { type Config, checkCase, drawnArb } from './differential/runner.js';
import { NOT_OPS, OP_TABLE } from './differential/table/index.js';

/**
 * The differential harness on fixed seeds (CI): every public op of @webrnn/core, inputs reached through random
 * view chains, run on the CPU in float64 (the reference) and in float32 and on WebGPU, outputs and gradients
 * compared with the op's tolerance. `pnpm fuzz` runs the same cases open-ended (WEBRNN_FUZZ_SECONDS, a new seed
 * per round). WEBRNN_DIFF_RUNS sets the cases per op, WEBRNN_DIFF_OPS a comma-separated subset.
 */
const gpu = await initWebGPU();
if (!gpu && process.env.WEBRNN_REQUIRE_WEBGPU === '1') {
  throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${lastWebGPUError()}`);
}
if (!gpu) console.log(`differential harness: cpu only (${lastWebGPUError()})`);
afterAll(() => gpu?.destroy());

const DEVICES: Config[] = [
  { device: 'cpu', float: 'float32' },
  ...(gpu ? [{ device: 'webgpu' as const, float: 'float32' as const }] : []),
];
const RUNS = Number(process.env.WEBRNN_DIFF_RUNS ?? 12);
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261204);
const ONLY = process.env.WEBRNN_DIFF_OPS?.split(',');
const FUZZ_SECONDS = Number(process.env.WEBRNN_FUZZ_SECONDS ?? 0);
const entries = OP_TABLE.filter((e) => !ONLY || ONLY.includes(e.op));
const title = (e: (typeof OP_TABLE)[number]) => `${e.op}${e.label ? ` (${e.label})` : ''}`;

/** Runs the cases of `entry` drawn from `seed`; the first disagreement (shrunk) as an Error. */
async function check(entry: (typeof OP_TABLE)[number], seed: number, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(drawnArb(entry), async (d) => {
      const m = await checkCase(entry, d, DEVICES);
      if (m) throw new Error(m);
    }),
    { numRuns, seed, endOnFailure: true },
  );
}

describe('the op table', () => {
  it('names every export of @webrnn/core: an op in the table, or a non-op with its reason', () => {
    const tested = new Set(OP_TABLE.map((e) => e.op));
    const missing = Object.keys(core).filter((k) => !tested.has(k) && !(k in NOT_OPS));
    expect(missing, 'exports neither in OP_TABLE nor in NOT_OPS').toEqual([]);
    const stale = [...tested, ...Object.keys(NOT_OPS)].filter((k) => !(k in core));
    expect(stale, 'table entries that are not exports').toEqual([]);
  });
});

if (FUZZ_SECONDS === 0)
  describe('every op agrees across devices and with the float64 reference', () => {
    for (const entry of entries) it(title(entry), () => check(entry, SEED, RUNS));
  });

// Not with no entry to draw (WEBRNN_DIFF_OPS naming only ops of the other harness): the loop would spin.
if (FUZZ_SECONDS > 0 && entries.length > 0)
  describe('fuzz', () => {
    it(
      'open-ended: a new seed per op per round until the time is up',
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
              const cause =
                (e as Error).cause instanceof Error ? `\n${((e as Error).cause as Error).message}` : '';
              failures.push(
                `${title(entry)}, WEBRNN_FC_SEED=${seed} WEBRNN_DIFF_OPS=${entry.op}:\n${(e as Error).message}${cause}`,
              );
            }
            cases += RUNS;
          }
          console.log(
            `fuzz: round ${round} done (seed ${SEED + round}), ${cases} cases, ${failures.length} failing ops`,
          );
        }
        expect(failures, failures.join('\n\n')).toEqual([]);
      },
      (FUZZ_SECONDS + 600) * 1000,
    );
  });
