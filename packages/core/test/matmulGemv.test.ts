import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packAWasm, packBWasm, planWasmMatmul, runWasmMatmul } from '../src/backends/cpu/wasm/matmulWasm.js';
import { gemmInstance } from '../src/backends/cpu/wasm/runtime.js';

/**
 * The wasm gemv (products of fewer rows than gemm's register block, wasm/gemvBody.ts) through the whole wasm path
 * (plan, pack, run, copy out), against float64 sums: K across several KC chunks and every remainder of its four-way
 * unroll, N across partial panels, strided and transposed operands, with and without a starting C (addmm).
 */

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const g = gemmInstance();

describe('wasm gemv (1 to MR - 1 rows)', () => {
  it.skipIf(!g)('matches float64 sums for random shapes, strides and addends', () => {
    const MR = g!.shape.MR;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MR - 1 }),
        fc.integer({ min: 1, max: 70 }),
        fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 250, max: 600 })),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1 << 30 }),
        (M, N, K, transA, transB, withC, seed) => {
          let s = seed;
          const r = () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return (s / 2 ** 32) * 2 - 1;
          };
          const A = Float32Array.from({ length: M * K + 3 }, r);
          const B = Float32Array.from({ length: K * N + 2 }, r);
          const Cv = Float32Array.from({ length: N }, r);
          const [ars, acs] = transA ? [1, M] : [K, 1];
          const [brs, bcs] = transB ? [1, K] : [N, 1];
          const p = planWasmMatmul(M, N, K)!;
          packAWasm(p, A, 3, ars, acs);
          packBWasm(p, B, 2, brs, bcs);
          const O = new Float32Array(M * N);
          // A bias row as the addend: stride 0 down the rows.
          const c = { buffer: Cv, dtype: 'float32' as const, shape: [M, N], strides: [0, 1], offset: 0 };
          runWasmMatmul(p, O, 0, withC ? c : undefined);
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let want = withC ? Cv[j]! : 0;
              let abs = Math.abs(want);
              for (let k = 0; k < K; k++) {
                const t = A[3 + i * ars + k * acs]! * B[2 + k * brs + j * bcs]!;
                want += t;
                abs += Math.abs(t);
              }
              const got = O[i * N + j]!;
              if (!(Math.abs(got - want) <= 2e-7 * (K + 4) * abs + 1e-30)) {
                expect.fail(`${M}x${K}x${N} (${i}, ${j}): ${got}, expected ${want}`);
              }
            }
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});
