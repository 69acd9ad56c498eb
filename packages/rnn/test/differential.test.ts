import { describe, expect, it } from 'vitest';
import { nn } from '@webrnn/rnn';
import { differentialSuite } from '../../core/test/differential/suite.js';
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

await differentialSuite({
  file: 'packages/rnn/test/differential.test.ts',
  table: MODULE_TABLE,
  title: (e) => `nn.${e.op}${e.label ? ` (${e.label})` : ''}`,
  defaultRuns: 8,
});
