import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CTL_SLOTS, gemmBlocks, takeGemmBlocks } from '../src/backends/cpu/gemmBlocks.js';
import { packAWasm, packBWasm, planWasmMatmul } from '../src/backends/cpu/wasm/matmulWasm.js';
import { gemmInstance } from '../src/backends/cpu/wasm/runtime.js';

/**
 * The blocks a wasm product is shared in between the calling thread and the matmul worker: they must cover the
 * padded result exactly once, on register-block boundaries, and the generated gemm must compute any block of rows
 * and columns (taken in any order) as the whole product does.
 */
const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261205);
const [MR, NR] = [4, 8];

/** A control word holding the job for rows [0, rowEnd) of an Mp x Np product in the given blocks. */
function job(
  Mp: number,
  Np: number,
  K: number,
  rows: number,
  cols: number,
  addr = [0, 0, 0, 0],
  rowEnd = Mp,
) {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4));
  ctl.set([Mp, Np, K, rows, cols, 1, ...addr, 0, rowEnd], 1);
  return ctl;
}

describe('gemmBlocks', () => {
  it('covers every cell of the padded result once, in whole register blocks, in at least two blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 300 }), (mb, nb) => {
        const [Mp, Np] = [mb * MR, nb * NR];
        const b = gemmBlocks(Mp, Np, MR, NR);
        if (b === null) {
          // Only a product of few rows and few columns stays on one thread.
          expect(Mp < 64 && Np <= 32).toBe(true);
          return;
        }
        expect(b.rows % MR === 0 || b.rows === Mp).toBe(true);
        expect(b.cols % NR === 0 || b.cols === Np).toBe(true);
        const seen = new Uint8Array(Mp * Np);
        let count = 0;
        const taken = takeGemmBlocks(
          (_pa, _pb, _c, mp, np, _k, i0, i1, _ldc, j0, j1) => {
            expect([mp, np]).toEqual([Mp, Np]);
            expect(i0 < i1 && j0 < j1 && i1 <= Mp && j1 <= Np).toBe(true);
            expect(i0 % MR === 0 && j0 % NR === 0).toBe(true);
            for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) seen[i * Np + j]! += 1;
            count++;
          },
          job(Mp, Np, 1, b.rows, b.cols),
        );
        expect(taken).toBe(count); // what the worker adds to cpuThreadStatus's count
        expect(seen.every((v) => v === 1)).toBe(true);
        expect(count).toBeGreaterThanOrEqual(2);
        // Rows first where there are enough of them; a recurrent step's few rows are split by columns. At most
        // eight blocks, of at least 32 rows or columns (fewer would reload packed B, or cost more than they share).
        if (Mp >= 64) expect([b.cols, b.rows >= 32, Math.ceil(Mp / b.rows) <= 8]).toEqual([Np, true, true]);
        else expect([b.rows, b.cols >= 32, Math.ceil(Np / b.cols) <= 8]).toEqual([Mp, true, true]);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('splits [32, 256] x [256, 1024] (a char-LSTM step at batch 32) by columns', () => {
    expect(gemmBlocks(32, 1024, MR, NR)).toEqual({ rows: 32, cols: 128 });
    expect(gemmBlocks(32, 32, MR, NR)).toBeNull();
    expect(gemmBlocks(256, 1024, MR, NR)).toEqual({ rows: 32, cols: 1024 });
    expect(gemmBlocks(1024, 64, MR, NR)).toEqual({ rows: 128, cols: 64 });
  });

  it('leaves nothing for a second thread that arrives after the first took every block', () => {
    const ctl = job(64, 64, 1, 32, 64);
    let calls = 0;
    takeGemmBlocks(() => calls++, ctl);
    takeGemmBlocks(() => calls++, ctl);
    expect(calls).toBe(2);
  });
});

describe('the wasm gemm and gemv over blocks of rows and columns', () => {
  it('equal the whole product for blocks taken in any order (K across chunks; gemv below MR rows)', () => {
    const g = gemmInstance()!;
    expect(g.shape).toMatchObject({ MR, NR });
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: MR - 1 }), fc.integer({ min: 1, max: 40 })),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer(),
        (M, N, K, rowBlocks, colBlocks, seed) => {
          const p = planWasmMatmul(M, N, K)!;
          let s = seed >>> 0;
          const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
          const A = Float32Array.from({ length: M * K }, rnd);
          const B = Float32Array.from({ length: K * N }, rnd);
          packAWasm(p, A, 0, K, 1);
          packBWasm(p, B, 0, N, 1);
          const { Mp, Np, ldc } = p;
          // gemv for 1 to MR - 1 rows (only those rows), gemm for the rest (all of the padded rows). Only gemm's
          // blocks are shared between threads, but both kernels take any block of columns.
          const [kernel, rowEnd] = M < MR ? [g.gemv, M] : [g.gemm, Mp];
          const whole = (): Float32Array => {
            p.F.fill(0, p.c, p.c + Mp * ldc);
            kernel(4 * p.pa, 4 * p.pb, 4 * p.c, Mp, Np, K, 0, rowEnd, ldc, 0, Np);
            return p.F.slice(p.c, p.c + Mp * ldc);
          };
          const expected = whole();
          const rows = M < MR ? M : Math.ceil(Mp / rowBlocks / MR) * MR;
          const cols = Math.ceil(Np / colBlocks / NR) * NR;
          const ctl = job(rowEnd, Np, K, rows, cols, [4 * p.pa, 4 * p.pb, 4 * p.c, ldc]);
          // Blocks in a shuffled order: the counter hands out b, the kernel gets the permuted block.
          const across = Math.ceil(Np / cols);
          const count = Math.ceil(rowEnd / rows) * across;
          const order = Array.from({ length: count }, (_, i) => i);
          for (let i = count - 1; i > 0; i--) {
            const k = Math.floor(((rnd() + 1) / 2) * (i + 1));
            [order[i], order[k]] = [order[k]!, order[i]!];
          }
          p.F.fill(0, p.c, p.c + Mp * ldc);
          let n = 0;
          takeGemmBlocks((pa, pb, c, _mp, np, k, _i0, _i1, l) => {
            const b = order[n++]!;
            const [i0, j0] = [Math.floor(b / across) * rows, (b % across) * cols];
            kernel(pa, pb, c, Mp, np, k, i0, Math.min(rowEnd, i0 + rows), l, j0, Math.min(Np, j0 + cols));
          }, ctl);
          expect(n).toBe(count);
          const got = p.F.slice(p.c, p.c + Mp * ldc);
          // Same operations in the same order per cell: equal to the bit.
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) expect(Object.is(got[i * ldc + j], expected[i * ldc + j])).toBe(true);
        },
      ),
      { numRuns: 60, seed: SEED },
    );
  });
});
