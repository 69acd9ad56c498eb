import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { differentialSuite } from './differential/suite.js';
import { NOT_OPS, OP_TABLE } from './differential/table/index.js';

/**
 * The differential harness over every public op of @webrnn/core: inputs reached through random view chains, run on
 * the CPU in float64 (the reference) and in float32 and on WebGPU, outputs, refusals and gradients compared with
 * the op's tolerance (see differential/runner.ts). Fixed seeds here; `pnpm fuzz` runs it open-ended.
 */
describe('the op table', () => {
  it('names every export of @webrnn/core: an op in the table, or a non-op with its reason', () => {
    const tested = new Set(OP_TABLE.map((e) => e.op));
    const missing = Object.keys(core).filter((k) => !tested.has(k) && !(k in NOT_OPS));
    expect(missing, 'exports neither in OP_TABLE nor in NOT_OPS').toEqual([]);
    const stale = [...tested, ...Object.keys(NOT_OPS)].filter((k) => !(k in core));
    expect(stale, 'table entries that are not exports').toEqual([]);
  });
});

await differentialSuite({
  file: 'packages/core/test/differential.test.ts',
  table: OP_TABLE,
  title: (e) => `${e.op}${e.label ? ` (${e.label})` : ''}`,
  defaultRuns: 12,
});
