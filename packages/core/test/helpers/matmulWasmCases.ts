import fc from 'fast-check';
import { expect } from 'vitest';
import type { View } from '../../src/backends/backend.js';
import { matmulCpu } from '../../src/backends/cpu/matmul.js';
import { setCpuWasm } from '../../src/backends/cpu/wasm/runtime.js';

/**
 * Cases for the wasm float32 matmul (matmulWasm*.test.ts): random float32 operands of any strides, run with the
 * wasm path on and off (the JavaScript reference, float64 sums); every output must agree within a tolerance that
 * grows with K, and non-finite outputs exactly (NaN where NaN, the same infinities).
 */

export interface Case {
  M: number;
  N: number;
  K: number;
  batch: number[];
  shareA: boolean[];
  shareB: boolean[];
  transA: boolean;
  transB: boolean;
  offA: number;
  offB: number;
  /** Flat positions (modulo the buffer) that get NaN, Inf or -Inf. */
  specials: [number, number][];
  seed: number;
}

function operand(
  c: Case,
  rows: number,
  cols: number,
  trans: boolean,
  share: boolean[],
  off: number,
  seed: number,
) {
  const strides = new Array<number>(c.batch.length + 2);
  strides[c.batch.length] = trans ? 1 : cols;
  strides[c.batch.length + 1] = trans ? rows : 1;
  let size = rows * cols;
  for (let d = c.batch.length - 1; d >= 0; d--) {
    strides[d] = share[d] ? 0 : size;
    if (!share[d]) size *= c.batch[d]!;
  }
  const buffer = new Float32Array(off + size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < buffer.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    buffer[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { buffer, dtype: 'float32' as const, shape: [...c.batch, rows, cols], strides, offset: off };
}

function run(mode: 'on' | 'off', a: View, b: View, shape: number[]): Float32Array {
  setCpuWasm(mode);
  const n = shape.reduce((x, y) => x * y, 1);
  const buffer = new Float32Array(n + 2).fill(-77);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  matmulCpu(a, b, { buffer, dtype: 'float32', shape, strides, offset: 1 });
  expect(buffer[0]).toBe(-77);
  expect(buffer[n + 1]).toBe(-77);
  return buffer.subarray(1, n + 1);
}

export function check(c: Case): void {
  const a = operand(c, c.M, c.K, c.transA, c.shareA, c.offA, c.seed);
  const b = operand(c, c.K, c.N, c.transB, c.shareB, c.offB, c.seed + 7919);
  for (const [pos, kind] of c.specials) {
    const target = pos % 2 === 0 ? a.buffer : b.buffer;
    if (target.length > 0) target[(pos >> 1) % target.length] = [Number.NaN, Infinity, -Infinity][kind]!;
  }
  const shape = [...c.batch, c.M, c.N];
  const got = run('on', a, b, shape);
  const want = run('off', a, b, shape);
  const tol = 2e-6 * Math.max(c.K, 1);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const ok = Number.isFinite(w) ? Math.abs(g - w) <= tol : Object.is(g, w);
    if (!ok) expect.fail(`out[${i}] = ${g}, reference ${w} (tolerance ${tol}; ${JSON.stringify(c)})`);
  }
}

export const caseArb = (mn: number, kMin: number, kMax: number, maxSpecials: number) =>
  fc
    .record({
      M: fc.integer({ min: 0, max: mn }),
      N: fc.integer({ min: 0, max: mn }),
      K: fc.integer({ min: kMin, max: kMax }),
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      offA: fc.integer({ min: 0, max: 5 }),
      offB: fc.integer({ min: 0, max: 5 }),
      specials: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 })), { maxLength: maxSpecials }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
    })
    .chain((c) =>
      fc
        .tuple(
          fc.array(fc.boolean(), { minLength: c.batch.length, maxLength: c.batch.length }),
          fc.array(fc.boolean(), { minLength: c.batch.length, maxLength: c.batch.length }),
        )
        .map(([shareA, shareB]): Case => ({ ...c, shareA, shareB })),
    );
