import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasmStatus, setCpuWasm } from '../src/backends/cpu/wasm/runtime.js';
import { caseArb, check } from './helpers/matmulWasmCases.js';

/**
 * The matmul kernel's relaxed-SIMD variant (f32x4.relaxed_madd): Node 20 validates it only behind a V8 flag, set
 * here before anything detects the host's features (they are detected on first use), so this file's process
 * builds the fused kernel; later Nodes have it on by default. Same cases as matmulWasm.test.ts.
 */
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
afterAll(() => setCpuWasm('auto'));

describe('wasm float32 matmul with relaxed-SIMD fused multiply-add', () => {
  it('is detected (by validating a module that uses it) and used', () => {
    setCpuWasm('on');
    expect(cpuWasmStatus()).toMatchObject({ active: true, relaxedSimd: true });
  });

  it('matches the JavaScript path, NaN and +-Inf included', () => {
    fc.assert(
      fc.property(caseArb(70, 0, 300, 2), (c) => check(c)),
      { numRuns: 120, seed: SEED },
    );
  });
});
